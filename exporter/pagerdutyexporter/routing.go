package pagerdutyexporter // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter"

import (
	"maps"
	"slices"
	"strings"
)

// defaultRoute names the routing_key in metrics and logs; unknownRoute a key
// no route has, such as one read back from storage after a rotation.
const (
	defaultRoute = "default"
	unknownRoute = "unknown"
)

// router picks a record's integration key from the configured map. Keys are
// only ever looked up here; records can name a route but never carry a key.
type router struct {
	defaultKey string
	keys       map[string]string // attribute value -> key
	names      map[string]string // key -> route name, for telemetry
	routes     []string          // route names: routing_key's, then routing.keys' in name order
}

func newRouter(cfg *Config) router {
	r := router{
		defaultKey: strings.TrimSpace(string(cfg.RoutingKey)),
		keys:       make(map[string]string, len(cfg.Routing.Keys)),
		names:      make(map[string]string, len(cfg.Routing.Keys)+1),
	}
	for value, key := range cfg.Routing.Keys {
		k := strings.TrimSpace(string(key))
		r.keys[value] = k
		r.names[k] = value
	}
	if r.defaultKey != "" {
		r.names[r.defaultKey] = defaultRoute
		r.routes = append(r.routes, defaultRoute)
	}
	r.routes = append(r.routes, slices.Sorted(maps.Keys(r.keys))...)
	return r
}

// pick returns the key for a record whose routing attribute has value, ""
// when neither the map nor routing_key provides one.
func (r router) pick(value string) string {
	if key, ok := r.keys[value]; ok {
		return key
	}
	return r.defaultKey
}

// key returns the key of a route name, "" for a route no longer configured.
func (r router) key(name string) string {
	if name == defaultRoute {
		return r.defaultKey
	}
	return r.keys[name]
}

// queued lists the routes that have queues: routing_key's, then the
// routing.keys entries in name order. The caller must not change it.
func (r router) queued() []string { return r.routes }

// queueName returns the route of key, if it has queues.
func (r router) queueName(key string) (string, bool) {
	name, ok := r.names[key]
	return name, ok
}

// name returns the route name of key, safe to show in telemetry.
func (r router) name(key string) string {
	if name, ok := r.names[key]; ok {
		return name
	}
	return unknownRoute
}
