package recordmap

import (
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// Map identifies and completes a record in one call, as the exporter does
// for a record it sends: the tests' view of the whole mapping. A record time
// out of range is dropped, as if the record had none.
func Map(lr plog.LogRecord, res pcommon.Resource, opts *Options) (Result, error) {
	return MapAt(lr, res, opts, 0)
}

// MapAt is Map for a record that reached the exporter at arrival; 0 means
// unknown, as in Map.
func MapAt(lr plog.LogRecord, res pcommon.Resource, opts *Options, arrival pcommon.Timestamp) (Result, error) {
	out, err := IdentifyAt(lr, res, opts, arrival)
	if err == nil {
		out.Complete()
	}
	return out, err
}
