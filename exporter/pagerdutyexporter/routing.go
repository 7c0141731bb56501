package pagerdutyexporter // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter"

import (
	"maps"
	"slices"
	"strings"
)

// route is one configured integration key and the name it goes by in
// metrics, logs and storage. index numbers the route for the telemetry's
// attribute sets: the configured routes first, in queue order, then the
// unknown route.
type route struct {
	name  string
	key   string
	index int
}

// router picks a record's route from the configured map. Keys are only ever
// looked up here; records can name a route but never carry a key.
type router struct {
	defaultRoute *route
	byValue      map[string]*route // routing attribute value -> route
	byKey        map[string]*route
	queued       []*route // routing_key's, then routing.keys' in name order
	unknown      *route   // a key no route has, such as one read back from storage
}

func newRouter(cfg *Config) *router {
	r := &router{byValue: make(map[string]*route, len(cfg.Routing.Keys)), byKey: make(map[string]*route, len(cfg.Routing.Keys)+1)}
	add := func(name string, key string) *route {
		rt := &route{name: name, key: strings.TrimSpace(key), index: len(r.queued)}
		r.queued = append(r.queued, rt)
		r.byKey[rt.key] = rt
		return rt
	}
	if key := strings.TrimSpace(string(cfg.RoutingKey)); key != "" {
		r.defaultRoute = add(defaultRoute, key)
	}
	for _, name := range slices.Sorted(maps.Keys(cfg.Routing.Keys)) {
		r.byValue[name] = add(name, string(cfg.Routing.Keys[name]))
	}
	r.unknown = &route{name: unknownRoute, index: len(r.queued)}
	return r
}

// pick returns the route of a record whose routing attribute has value, nil
// when neither the map nor routing_key provides one.
func (r *router) pick(value string) *route {
	if rt, ok := r.byValue[value]; ok {
		return rt
	}
	return r.defaultRoute
}

// ofKey returns the route of a routing key: the unknown route for a key no
// route has, nil for "".
func (r *router) ofKey(key string) *route {
	if key == "" {
		return nil
	}
	if rt, ok := r.byKey[key]; ok {
		return rt
	}
	return r.unknown
}

// names lists the route names that have queues, in queue order.
func (r *router) names() []string {
	names := make([]string, len(r.queued))
	for i, rt := range r.queued {
		names[i] = rt.name
	}
	return names
}

// nameOf returns the route name of a routing key, safe to show: the storage
// keeps it in place of the key.
func (r *router) nameOf(key string) string {
	if rt := r.ofKey(key); rt != nil {
		return rt.name
	}
	return unknownRoute
}

// named returns the route of a name, the unknown route for a name no
// longer configured, whose key is "".
func (r *router) named(name string) *route {
	if name == defaultRoute && r.defaultRoute != nil {
		return r.defaultRoute
	}
	if rt, ok := r.byValue[name]; ok {
		return rt
	}
	return r.unknown
}
