// Package bench holds the end-to-end benchmarks of the pagerduty exporter
// against github.com/PagerDuty/go-pagerduty and bare net/http; they live in
// fullpath_test.go and run with ./run.sh (see README.md). routecost_test.go
// measures what routes cost an exporter with a persistent queue, with
// ./routecost.sh. It is a module of its own so that the root module never
// depends on go-pagerduty.
package bench
