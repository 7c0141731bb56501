package e2etest

import (
	"io"
	"slices"
	"strings"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Exposition is a Prometheus text exposition, such as the collector's own
// metrics, parsed by the Prometheus client library (expfmt).
type Exposition struct {
	// Types is the TYPE of each metric family, in lower case (counter,
	// gauge, histogram, summary, untyped), by family name.
	Types map[string]string
	// Labels holds, per series name, the label names seen on it. A
	// histogram family x has the series x_bucket (with le), x_sum and
	// x_count.
	Labels map[string]map[string]bool
	// Samples are every sample, sorted by series name.
	Samples []Sample
}

// Sample is one sample of a series.
type Sample struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// ParseExposition parses the Prometheus text format.
func ParseExposition(r io.Reader) (*Exposition, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(r)
	if err != nil {
		return nil, err
	}
	e := &Exposition{Types: map[string]string{}, Labels: map[string]map[string]bool{}}
	for name, f := range families {
		e.Types[name] = strings.ToLower(f.GetType().String())
		// Each sample of a histogram or summary family becomes the series
		// a Prometheus server would store (x_bucket, x_sum, x_count).
		vec, err := expfmt.ExtractSamples(&expfmt.DecodeOptions{}, f)
		if err != nil {
			return nil, err
		}
		for _, s := range vec {
			smp := Sample{Name: string(s.Metric[model.MetricNameLabel]), Labels: map[string]string{}, Value: float64(s.Value)}
			if e.Labels[smp.Name] == nil {
				e.Labels[smp.Name] = map[string]bool{}
			}
			for k, v := range s.Metric {
				if k == model.MetricNameLabel {
					continue
				}
				smp.Labels[string(k)] = string(v)
				e.Labels[smp.Name][string(k)] = true
			}
			e.Samples = append(e.Samples, smp)
		}
	}
	slices.SortStableFunc(e.Samples, func(a, b Sample) int { return strings.Compare(a.Name, b.Name) })
	return e, nil
}

// Sum adds the values of the series named name whose labels include every
// "key=value" of labels; 0 when there is none.
func (e *Exposition) Sum(name string, labels ...string) float64 {
	var total float64
	for _, s := range e.Samples {
		if s.Name == name && hasLabels(s.Labels, labels) {
			total += s.Value
		}
	}
	return total
}

func hasLabels(have map[string]string, want []string) bool {
	for _, kv := range want {
		k, v, _ := strings.Cut(kv, "=")
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	return true
}
