package pagerdutyexporter // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter"

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/eventsapi"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/routes"
)

// Config is the pagerduty exporter's configuration.
type Config struct {
	// ClientConfig holds endpoint (the Events API base URL) and every HTTP
	// client setting: tls, proxy_url, headers, timeout, auth, compression.
	// timeout bounds each request and must be positive: 0, no bound, would
	// let a server that never answers hold the pipeline.
	ClientConfig confighttp.ClientConfig `mapstructure:",squash"`
	// QueueConfig is the sending_queue of each of the exporter's queues: one
	// per route and priority, so that a backlog on one never holds up
	// another.
	QueueConfig configoptional.Optional[exporterhelper.QueueBatchConfig] `mapstructure:"sending_queue"`
	// BackOffConfig is the retry_on_failure of each queue. PagerDuty asks
	// for retries of 429s, 5xx and network errors, never of a 400
	// (https://developer.pagerduty.com/docs/events-api-v2-overview#response-codes--retry-logic).
	BackOffConfig configretry.BackOffConfig `mapstructure:"retry_on_failure"`

	// RoutingKey is the default integration key, 32 characters
	// (https://developer.pagerduty.com/docs/send-alert-event). "" leaves the
	// records that routing.keys does not route without a key: they are
	// dropped (no_routing_key), unless the dedup cache knows the key of
	// their incident.
	RoutingKey configopaque.String `mapstructure:"routing_key"`
	// Routing picks an integration key per record.
	Routing RoutingConfig `mapstructure:"routing"`
	// RateLimit paces events per routing key.
	RateLimit RateLimitConfig `mapstructure:"rate_limit"`
	// Dedup bounds the dedup cache and sets its repeat window.
	Dedup DedupConfig `mapstructure:"dedup"`
	// AutoResolve resolves the alerts whose firing records stop.
	AutoResolve AutoResolveConfig `mapstructure:"auto_resolve"`
	// DefaultSeverity is used when a record gives no usable severity: one of
	// critical, error, warning and info.
	DefaultSeverity string `mapstructure:"default_severity"`
	// Client goes on triggers whose record names none (pagerduty.client);
	// "" leaves it out.
	Client string `mapstructure:"client"`
	// ClientURL goes on triggers whose record names none
	// (pagerduty.client_url, alert.generator_url); "" leaves it out.
	ClientURL httpURL `mapstructure:"client_url"`
	// Links adds links to triggers from their records' context.
	Links LinksConfig `mapstructure:"links"`
	// Storm tells the person paged how big a storm is, in one event.
	Storm StormConfig `mapstructure:"storm"`

	_ struct{}
}

// RoutingConfig selects a routing key by the value of one attribute.
type RoutingConfig struct {
	// Attribute is read from the record, then from its resource.
	Attribute string `mapstructure:"attribute"`
	// Keys maps attribute values to integration keys. Values not listed use
	// routing_key. Each name is a route, as named in metrics and logs.
	Keys map[string]configopaque.String `mapstructure:"keys"`

	_ struct{}
}

// RateLimitConfig paces events per routing key over any sliding minute, as
// PagerDuty counts them: "approximately 120 calls/minute per integration
// key", over "a 60 second window looking back from the current time"
// (https://developer.pagerduty.com/docs/events-api-rate-limits).
type RateLimitConfig struct {
	// EventsPerMinute is the most events sent under one routing key in any
	// 60-second window; 0 disables limiting.
	EventsPerMinute int `mapstructure:"events_per_minute"`
	// Burst is how many of them may go at once, between 1 and
	// EventsPerMinute when limiting.
	Burst int `mapstructure:"burst"`

	_ struct{}
}

// DedupConfig configures the dedup cache.
type DedupConfig struct {
	// TTL is how long an entry is kept after its last update; 0 keeps
	// entries until they are evicted.
	TTL time.Duration `mapstructure:"ttl"`
	// MaxEntries bounds the cache, in entries (dedup keys); resolved entries
	// are evicted first. 0 means no bound.
	MaxEntries int `mapstructure:"max_entries"`
	// RepeatInterval is how long an identical firing record stays suppressed
	// while its incident is open; 0 sends every firing record.
	RepeatInterval time.Duration `mapstructure:"repeat_interval"`
	// Storage names a storage extension that keeps the cache across
	// restarts; nil: the sending queue's storage when it has one, else
	// memory only.
	Storage *component.ID `mapstructure:"storage"`

	_ struct{}
}

// AutoResolveConfig closes the incidents opened from logs, which report
// occurrences, never recoveries.
type AutoResolveConfig struct {
	// After is the quiet period: an alert this exporter triggered, and
	// PagerDuty accepted, is resolved once no firing record of its dedup key
	// has reached the exporter for After. Time the collector was not running
	// never counts. 0, the default, turns it off; a record's
	// alert.resolve_after overrides it for its alert ("0s": never). It must
	// be at least a second (the clock ticks in seconds) and shorter than
	// dedup.ttl.
	After time.Duration `mapstructure:"after"`

	_ struct{}
}

// maxEventsPerMinute bounds rate_limit.events_per_minute, and with it
// burst. PagerDuty's highest documented limit is 10,000 events a minute per
// integration key; beyond a million the limiter's log of send times per key
// would cost more memory than it is worth.
const maxEventsPerMinute = 1_000_000

// maxConsumers bounds sending_queue.num_consumers. It applies to each of a
// route's queues (up to one per priority), each consumer a goroutine; a key
// takes about 2 events a second at PagerDuty's default limit, which even
// 10 consumers outpace at a second per request.
const maxConsumers = 100

var (
	_ component.Config    = (*Config)(nil)
	_ confmap.Validator   = (*Config)(nil)
	_ confmap.Unmarshaler = (*RateLimitConfig)(nil)
	_ confmap.Unmarshaler = (*DedupConfig)(nil)
)

// Unmarshal refuses a number that decoding would corrupt: it truncates 1.5
// to 1, and turns a number too large for an int (YAML reads
// 99999999999999999999 as a float) into a negative one, which Validate
// would then report as negative. Values that fit are left to Validate.
func (rl *RateLimitConfig) Unmarshal(conf *confmap.Conf) error {
	if err := checkWholeNumbers(conf, map[string]int64{
		"events_per_minute": maxEventsPerMinute,
		"burst":             maxEventsPerMinute,
	}); err != nil {
		return err
	}
	return conf.Unmarshal(rl)
}

// Unmarshal refuses a max_entries that is not whole or does not fit an int,
// as RateLimitConfig.Unmarshal does.
func (dc *DedupConfig) Unmarshal(conf *confmap.Conf) error {
	if err := checkWholeNumbers(conf, map[string]int64{"max_entries": math.MaxInt64}); err != nil {
		return err
	}
	return conf.Unmarshal(dc)
}

// checkWholeNumbers checks the raw values of conf's integer fields: each
// must be a whole number that fits an int64; the error states the field's
// documented bound. The collector prefixes the section ('rate_limit').
// Other types are left to decoding, values that fit to Validate.
func checkWholeNumbers(conf *confmap.Conf, bounds map[string]int64) error {
	names := make([]string, 0, len(bounds))
	for name := range bounds {
		names = append(names, name)
	}
	sort.Strings(names)
	var errs []error
	for _, name := range names {
		bound := bounds[name]
		var f float64
		switch v := conf.Get(name).(type) {
		case float64:
			f = v
		case float32:
			f = float64(v)
		case uint64:
			if v <= math.MaxInt64 {
				continue
			}
			f = float64(v)
		default: // ints fit; other types are decoding's to refuse
			continue
		}
		switch {
		case math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) >= math.MaxInt64: // 2^63: does not fit
			errs = append(errs, fmt.Errorf("%s: out of range: at most %d, got %v", name, bound, conf.Get(name)))
		case f != math.Trunc(f):
			errs = append(errs, fmt.Errorf("%s: must be a whole number, got %v", name, f))
		}
	}
	return errors.Join(errs...)
}

// Validate checks the exporter's own fields; confmap validates the nested
// HTTP, queue and retry configs.
func (cfg *Config) Validate() error {
	errs := cfg.validateEndpoint()
	errs = append(errs, cfg.validateRouting()...)
	errs = append(errs, cfg.validateBounds()...)
	errs = append(errs, cfg.Links.validate()...)
	errs = append(errs, cfg.Storm.validate(cfg.RateLimit)...)
	if !eventsapi.ValidSeverity(cfg.DefaultSeverity) {
		errs = append(errs, fmt.Errorf("default_severity: must be one of critical, error, warning, info, got %q", cfg.DefaultSeverity))
	}
	return errors.Join(errs...)
}

func (cfg *Config) validateEndpoint() []error {
	var errs []error
	if cfg.ClientConfig.Endpoint == "" {
		errs = append(errs, errors.New("endpoint: must be set to the Events API base URL, e.g. https://events.pagerduty.com"))
	} else if u, err := url.Parse(cfg.ClientConfig.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, errors.New("endpoint: must be an absolute http(s) URL"))
	} else if err := checkEndpointParts(cfg.ClientConfig.Endpoint, u); err != nil {
		errs = append(errs, err)
	} else if strings.EqualFold(u.Scheme, "http") && !isLoopback(u.Hostname()) {
		errs = append(errs, errors.New("endpoint: must be https: over http the routing keys would cross the network in clear text; http is allowed to a loopback host only (127.0.0.1, ::1, localhost)"))
	} else if path := strings.TrimRight(u.Path, "/"); strings.HasSuffix(path, eventsapi.EnqueuePath) || strings.HasSuffix(path, eventsapi.ChangeEnqueuePath) {
		// Every event would be answered 404 and dropped as refused.
		errs = append(errs, fmt.Errorf("endpoint: is the base URL, without %s: the exporter appends the path itself", path[strings.LastIndex(path, "/v2/"):]))
	}
	if cfg.ClientConfig.Timeout <= 0 {
		// Without a timeout, a server that never answers holds every queue
		// consumer, and with them the whole pipeline, forever.
		errs = append(errs, fmt.Errorf("timeout: must be greater than 0 (it bounds each request to the Events API), got %v", cfg.ClientConfig.Timeout))
	}
	return errs
}

func (cfg *Config) validateRouting() []error {
	var errs []error
	switch {
	case cfg.RoutingKey == "" && len(cfg.Routing.Keys) == 0:
		errs = append(errs, errors.New("routing_key: must be set (a 32-character integration key), or routing.keys must list at least one key"))
	case cfg.RoutingKey != "":
		if err := checkKey(cfg.RoutingKey); err != nil {
			errs = append(errs, fmt.Errorf("routing_key: %w", err))
		}
	}
	names := make([]string, 0, len(cfg.Routing.Keys))
	for name := range cfg.Routing.Keys {
		names = append(names, name)
	}
	sort.Strings(names)
	// Route names by key, to find a key listed twice; routing_key first.
	owner := map[string]string{}
	if key := strings.TrimSpace(string(cfg.RoutingKey)); key != "" {
		owner[key] = "routing_key"
	}
	for _, name := range names {
		switch strings.TrimSpace(name) {
		case "":
			errs = append(errs, fmt.Errorf("routing.keys: a route name must not be empty or blank, got %q", name))
		case routes.Default:
			errs = append(errs, fmt.Errorf("routing.keys::%s: the name %q is reserved for routing_key", name, routes.Default))
		case routes.Unknown:
			errs = append(errs, fmt.Errorf("routing.keys::%s: the name %q is reserved: metrics label with it a key no route has", name, routes.Unknown))
		}
		if err := checkKey(cfg.Routing.Keys[name]); err != nil {
			errs = append(errs, fmt.Errorf("routing.keys::%s: %w", name, err))
			continue
		}
		key := strings.TrimSpace(string(cfg.Routing.Keys[name]))
		if first, ok := owner[key]; ok {
			// The key itself is never named; the two places that hold it are.
			errs = append(errs, fmt.Errorf("routing.keys::%s: the same integration key as %s; give each key one name", name, placeOf(first)))
			continue
		}
		owner[key] = name
	}
	if len(cfg.Routing.Keys) > 0 && cfg.Routing.Attribute == "" {
		errs = append(errs, errors.New("routing.attribute: must name the attribute whose value selects a key from routing.keys"))
	}
	return errs
}

// validateBounds checks the numbers of rate_limit, dedup and auto_resolve.
func (cfg *Config) validateBounds() []error {
	var errs []error
	if cfg.RateLimit.EventsPerMinute < 0 {
		errs = append(errs, errors.New("rate_limit.events_per_minute: must not be negative (0 disables rate limiting)"))
	}
	if cfg.RateLimit.EventsPerMinute > maxEventsPerMinute {
		errs = append(errs, fmt.Errorf("rate_limit.events_per_minute: out of range: at most %d (0 disables rate limiting), got %d", maxEventsPerMinute, cfg.RateLimit.EventsPerMinute))
	}
	if cfg.RateLimit.EventsPerMinute > 0 && (cfg.RateLimit.Burst < 1 || cfg.RateLimit.Burst > cfg.RateLimit.EventsPerMinute) {
		errs = append(errs, fmt.Errorf("rate_limit.burst: must be between 1 and rate_limit.events_per_minute (%d), got %d", cfg.RateLimit.EventsPerMinute, cfg.RateLimit.Burst))
	}
	if cfg.Dedup.TTL < 0 {
		errs = append(errs, errors.New("dedup.ttl: must not be negative (0 keeps entries until evicted)"))
	}
	if cfg.Dedup.MaxEntries < 0 {
		errs = append(errs, errors.New("dedup.max_entries: must not be negative (0 means no bound)"))
	}
	if cfg.Dedup.RepeatInterval < 0 {
		errs = append(errs, errors.New("dedup.repeat_interval: must not be negative"))
	}
	if cfg.QueueConfig.HasValue() && cfg.QueueConfig.Get().NumConsumers > maxConsumers {
		errs = append(errs, fmt.Errorf("sending_queue::num_consumers: at most %d, as it applies to each route's queue of each priority, got %d", maxConsumers, cfg.QueueConfig.Get().NumConsumers))
	}
	switch after := cfg.AutoResolve.After; {
	case after < 0:
		errs = append(errs, fmt.Errorf("auto_resolve.after: must not be negative (0 turns auto-resolution off), got %v", after))
	case after > 0 && after < time.Second:
		errs = append(errs, fmt.Errorf("auto_resolve.after: must be at least 1s (0 turns auto-resolution off), got %v", after))
	case after > 0 && cfg.Dedup.TTL > 0 && after >= cfg.Dedup.TTL:
		// The quiet clock lives in the alert's dedup entry, which the TTL
		// would drop first.
		errs = append(errs, fmt.Errorf("auto_resolve.after: must be shorter than dedup.ttl (%v), which must remember an alert for longer than its quiet period, got %v", cfg.Dedup.TTL, after))
	}
	return errs
}

// placeOf names where a route's key is configured.
func placeOf(route string) string {
	if route == "routing_key" {
		return route
	}
	return "routing.keys::" + route
}

// checkEndpointParts refuses the URL parts the exporter cannot keep: the
// paths are appended to the endpoint as text, so a query or a fragment
// would end up before them (http://host?token=x posts to
// /?token=x/v2/enqueue), and user info would be sent to every host the
// URL names. The parts themselves, which may be secrets, are not quoted.
func checkEndpointParts(raw string, u *url.URL) error {
	switch {
	case u.User != nil:
		return errors.New("endpoint: must not carry user info (user:password@); use headers or auth for credentials")
	case u.RawQuery != "" || u.ForceQuery:
		return errors.New("endpoint: must not carry a query (?...): the exporter appends /v2/enqueue to the endpoint, after it")
	case strings.Contains(raw, "#"):
		return errors.New("endpoint: must not carry a fragment (#...): the exporter appends /v2/enqueue to the endpoint, after it")
	}
	return nil
}

// checkKey checks the shape of an integration key: 32 characters, as
// PagerDuty requires (https://developer.pagerduty.com/docs/send-alert-event),
// and printable ASCII, since a space, a line break or a character outside
// ASCII in a key is a copying mistake. The key itself never appears in the
// error.
// Surrounding white space is ignored, as the router drops it: a key read
// with ${file:...} ends in a newline.
func checkKey(key configopaque.String) error {
	k := strings.TrimSpace(string(key))
	switch n := utf8.RuneCountInString(k); {
	case n == 0:
		return errors.New("must not be empty")
	case n != eventsapi.RoutingKeyLen:
		return fmt.Errorf("must be a %d-character integration key, got %d characters", eventsapi.RoutingKeyLen, n)
	}
	for i, c := range []rune(k) {
		var what string
		switch {
		case c == ' ' || c == '\t':
			what = "a space or tab"
		case c == '\r' || c == '\n':
			what = "a line break"
		case c < ' ' || c == 0x7f:
			what = "a control character"
		case c > 0x7f:
			what = "not ASCII"
		case (c < '0' || c > '9') && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z'):
			// PagerDuty answers 400 "'routing_key' cannot contain
			// non-alphanumeric characters" to every event.
			what = "not a letter or digit"
		default:
			continue
		}
		return fmt.Errorf("must be %d letters and digits (A-Z, a-z, 0-9), but character %d is %s", eventsapi.RoutingKeyLen, i+1, what)
	}
	return nil
}
