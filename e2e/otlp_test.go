package e2e

import (
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-pagerduty/pagerduty/internal/e2etest"
)

// firing, acked and resolved are alert records of one fingerprint.
func firing(fp, severity, summary string) e2etest.Alert {
	return e2etest.Alert{Fingerprint: fp, Status: "firing", Severity: severity, Summary: summary, Name: "E2E " + fp}
}

func acked(fp string) e2etest.Alert { return e2etest.Alert{Fingerprint: fp, Status: "acknowledged"} }

func resolved(fp string) e2etest.Alert { return e2etest.Alert{Fingerprint: fp, Status: "resolved"} }

// records is a one-resource request of service holding alerts.
func records(service string, alerts ...e2etest.Alert) plog.Logs {
	return e2etest.NewPayload().Service(service).Add(alerts...).Logs()
}
