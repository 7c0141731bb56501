package pagerdutyexporter // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter"

import (
	"errors"
	"fmt"
	"time"
)

// StormConfig sends a digest of a route's storm: one event that says how
// many alerts wait and how long they take to arrive (see internal/storm).
type StormConfig struct {
	// DigestAfter turns the digest on: a route whose waiting events would
	// take longer than this to drain at rate_limit.events_per_minute gets
	// one digest event, ahead of them, updated at most once a minute and
	// resolved once they have drained. 0, the default, turns it off.
	DigestAfter time.Duration `mapstructure:"digest_after"`

	_ struct{}
}

// validate checks digest_after against the rate limit it is measured by
// (Config.Validate calls it).
func (sc *StormConfig) validate(rate RateLimitConfig) []error {
	switch {
	case sc.DigestAfter < 0:
		return []error{fmt.Errorf("storm.digest_after: must not be negative, got %v", sc.DigestAfter)}
	case sc.DigestAfter > 0 && rate.EventsPerMinute == 0:
		return []error{errors.New("storm.digest_after: needs rate_limit.events_per_minute, by which a route's waiting events drain")}
	}
	return nil
}
