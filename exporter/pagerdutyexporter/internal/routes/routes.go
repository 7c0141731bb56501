// Package routes owns where an event goes: the configured routes (a name
// and its routing key), the router that picks a record's route, and the
// priorities that order a route's queues.
package routes // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/routes"

import (
	"maps"
	"slices"
	"strings"
)

// Route names that routing.keys may not use: Default names routing_key in
// metrics and logs, Unknown a key no route has, such as one read back from
// storage.
const (
	Default = "default"
	Unknown = "unknown"
)

// Route is one configured integration key and the name it goes by in
// metrics, logs and storage. Index numbers the route for the telemetry's
// attribute sets: the configured routes first, in queue order, then the
// unknown route.
type Route struct {
	Name  string
	Key   string
	Index int
}

// KeyOf is rt's routing key, "" for no route.
func KeyOf(rt *Route) string {
	if rt == nil {
		return ""
	}
	return rt.Key
}

// Router picks a record's route from the configured map. Keys are only ever
// looked up here; records can name a route but never carry a key.
type Router struct {
	defaultRoute *Route
	byValue      map[string]*Route // routing attribute value -> route
	byKey        map[string]*Route
	// Queued are routing_key's route, then routing.keys' in name order.
	Queued []*Route
	// Unknown stands for a key no route has, such as one read back from
	// storage; its Key is "".
	Unknown *Route
}

// NewRouter builds the routes of defaultKey (routing_key; "" for none) and
// of keys (routing.keys, by name). Keys are trimmed of blanks.
func NewRouter(defaultKey string, keys map[string]string) *Router {
	r := &Router{byValue: make(map[string]*Route, len(keys)), byKey: make(map[string]*Route, len(keys)+1)}
	add := func(name, key string) *Route {
		rt := &Route{Name: name, Key: strings.TrimSpace(key), Index: len(r.Queued)}
		r.Queued = append(r.Queued, rt)
		r.byKey[rt.Key] = rt
		return rt
	}
	if key := strings.TrimSpace(defaultKey); key != "" {
		r.defaultRoute = add(Default, key)
	}
	for _, name := range slices.Sorted(maps.Keys(keys)) {
		r.byValue[name] = add(name, keys[name])
	}
	r.Unknown = &Route{Name: Unknown, Index: len(r.Queued)}
	return r
}

// Pick returns the route of a record whose routing attribute has value, nil
// when neither the map nor routing_key provides one.
func (r *Router) Pick(value string) *Route {
	if rt, ok := r.byValue[value]; ok {
		return rt
	}
	return r.defaultRoute
}

// OfKey returns the route of a routing key: the unknown route for a key no
// route has, nil for "".
func (r *Router) OfKey(key string) *Route {
	if key == "" {
		return nil
	}
	if rt, ok := r.byKey[key]; ok {
		return rt
	}
	return r.Unknown
}

// Names lists the route names that have queues, in queue order.
func (r *Router) Names() []string {
	names := make([]string, len(r.Queued))
	for i, rt := range r.Queued {
		names[i] = rt.Name
	}
	return names
}

// NameOf returns the route name of a routing key, safe to show: the storage
// keeps it in place of the key.
func (r *Router) NameOf(key string) string {
	if rt := r.OfKey(key); rt != nil {
		return rt.Name
	}
	return Unknown
}

// Named returns the route of a name, the unknown route for a name no
// longer configured, whose key is "".
func (r *Router) Named(name string) *Route {
	if name == Default && r.defaultRoute != nil {
		return r.defaultRoute
	}
	if rt, ok := r.byValue[name]; ok {
		return rt
	}
	return r.Unknown
}
