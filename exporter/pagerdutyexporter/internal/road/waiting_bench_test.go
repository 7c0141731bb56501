package road

import (
	"fmt"
	"testing"
)

// BenchmarkWaiting is what the storm digest's tick reads of one idle route.
func BenchmarkWaiting(b *testing.B) {
	names := make([]string, 100)
	for i := range names {
		names[i] = fmt.Sprintf("route-%03d", i)
	}
	r := &Road{backlog: newBacklog(names, 0, noGiveUp)}
	b.ReportAllocs()
	for b.Loop() {
		for _, name := range names {
			if r.Waiting(name).Total() != 0 {
				b.Fatal("an idle route holds records")
			}
		}
	}
}
