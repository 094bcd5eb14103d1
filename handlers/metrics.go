package handlers

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"fleetgate/db"
)

// Metrics are the Prometheus metrics of one server, in a registry of their
// own. They are served by Handler on a separate address (--metrics-addr),
// never through the console's route table.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	logins   *prometheus.CounterVec
}

// NewMetrics registers the request and login metrics with the Go runtime
// and process metrics; New adds the database pool metrics of its database.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fleetgate_http_requests_total",
			Help: "HTTP requests answered, by method, route pattern and status.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "fleetgate_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by method and route pattern.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "fleetgate_login_refusals_total",
			Help: "Refused password checks (console and API): failed (wrong e-mail or password) or throttled (locked).",
		}, []string{"reason"}),
	}
	m.logins.WithLabelValues("failed")
	m.logins.WithLabelValues("throttled")
	m.reg.MustRegister(m.requests, m.latency, m.logins,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Registry lets other parts of the program add their metrics.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

func (m *Metrics) loginRefused(reason string) {
	if m != nil {
		m.logins.WithLabelValues(reason).Inc()
	}
}

// middleware counts each request under its route pattern (/users/:id, not
// /users/42), so that the number of series stays bounded. It handles the
// error itself to see the status the error page gets.
func (m *Metrics) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" || c.Response().Status == http.StatusNotFound && route == "/*" {
			route = "unmatched"
		}
		method := c.Request().Method
		m.requests.WithLabelValues(method, route, strconv.Itoa(c.Response().Status)).Inc()
		m.latency.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
		return nil
	}
}

// dbPools reports the database connection pools: how often and how long
// requests waited for a connection, and how many are open and in use.
type dbPools struct{ d *db.DB }

var (
	poolWaits   = prometheus.NewDesc("fleetgate_db_pool_waits_total", "Times a query waited for a free connection.", []string{"pool"}, nil)
	poolWaited  = prometheus.NewDesc("fleetgate_db_pool_wait_seconds_total", "Time spent waiting for a free connection.", []string{"pool"}, nil)
	poolOpen    = prometheus.NewDesc("fleetgate_db_pool_open_connections", "Open connections.", []string{"pool"}, nil)
	poolInUse   = prometheus.NewDesc("fleetgate_db_pool_in_use_connections", "Connections in use.", []string{"pool"}, nil)
	poolMaxOpen = prometheus.NewDesc("fleetgate_db_pool_max_open_connections", "Most connections the pool opens.", []string{"pool"}, nil)
)

func (p dbPools) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolWaits, poolWaited, poolOpen, poolInUse, poolMaxOpen} {
		ch <- d
	}
}

func (p dbPools) Collect(ch chan<- prometheus.Metric) {
	w, r := p.d.Stats()
	for pool, s := range map[string]struct {
		waits            int64
		waited           time.Duration
		open, inUse, max int
	}{
		"writer":  {w.WaitCount, w.WaitDuration, w.OpenConnections, w.InUse, w.MaxOpenConnections},
		"readers": {r.WaitCount, r.WaitDuration, r.OpenConnections, r.InUse, r.MaxOpenConnections},
	} {
		ch <- prometheus.MustNewConstMetric(poolWaits, prometheus.CounterValue, float64(s.waits), pool)
		ch <- prometheus.MustNewConstMetric(poolWaited, prometheus.CounterValue, s.waited.Seconds(), pool)
		ch <- prometheus.MustNewConstMetric(poolOpen, prometheus.GaugeValue, float64(s.open), pool)
		ch <- prometheus.MustNewConstMetric(poolInUse, prometheus.GaugeValue, float64(s.inUse), pool)
		ch <- prometheus.MustNewConstMetric(poolMaxOpen, prometheus.GaugeValue, float64(s.max), pool)
	}
}
