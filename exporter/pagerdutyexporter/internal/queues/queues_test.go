package queues

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/metadata"
	"github.com/otelcol-pagerduty/pagerduty/exporter/pagerdutyexporter/internal/routes"
)

func TestQueueID(t *testing.T) {
	plain := component.NewID(metadata.Type)
	named := component.NewIDWithName(metadata.Type, "eu")
	assert.Equal(t, "pagerduty/checkout/critical", queueID(plain, "checkout", routes.PriorityCritical).String())
	assert.Equal(t, "pagerduty/eu/default/info", queueID(named, "default", routes.PriorityInfo).String())
	// Route names are escaped: distinct routes never share a queue, nor a
	// storage file.
	assert.Equal(t, "pagerduty/a%20b%2Fc/error", queueID(plain, "a b/c", routes.PriorityError).String())
	assert.NotEqual(t, queueID(plain, "a b", routes.PriorityError), queueID(plain, "a_b", routes.PriorityError))
	assert.NotEqual(t, queueID(plain, "a%20b", routes.PriorityError), queueID(plain, "a b", routes.PriorityError))
}

func TestItemsSize(t *testing.T) {
	full := protowire.AppendTag(nil, 1, protowire.Fixed64Type)
	full = protowire.AppendFixed64(full, 42)
	full = protowire.AppendTag(full, 3, protowire.Fixed64Type)
	full = protowire.AppendFixed64(full, 7)
	late := protowire.AppendTag(nil, 2, protowire.Fixed64Type)
	late = protowire.AppendFixed64(late, 9)
	late = append(late, full...)
	for name, tc := range map[string]struct {
		in   []byte
		want int64
		err  bool
	}{
		"absent":          {in: nil, want: 0},
		"first field":     {in: full, want: 42},
		"after another":   {in: late, want: 42},
		"truncated":       {in: full[:4], err: true},
		"unknown encoded": {in: []byte{0xff}, err: true},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := itemsSize(tc.in)
			if tc.err {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}
