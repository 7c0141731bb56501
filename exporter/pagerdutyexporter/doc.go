//go:generate ../../.tools/mdatagen metadata.yaml

// Package pagerdutyexporter exports log records that carry alert attributes
// to the PagerDuty Events API v2 as trigger, acknowledge, resolve and change
// events.
package pagerdutyexporter // import "github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter"
