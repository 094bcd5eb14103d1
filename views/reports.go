package views

import (
	"context"
	"fmt"
	"math"
	"strconv"

	"fleetgate/db"
)

// View models of the home pages, the dashboard and the reports. Every
// total on them covers what the member sees, and says so (BasisText).

// DashboardPage is the dashboard of a member with reports.view.
type DashboardPage struct {
	Shell     Shell
	D         db.Dashboard
	CanReport bool // the member may open the reports
}

// ReportPage is the mileage report of a period.
type ReportPage struct {
	Shell     Shell
	From, To  string // as typed
	Errors    FieldMsgs
	R         *db.Report // nil when the period is not valid
	ExportURL string     // the trips export of the period ("" without reports.export)
}

// MyHomePage is the home of a driver: their vehicles and this month's trips.
type MyHomePage struct {
	Shell         Shell
	Month         string
	Vehicles      []db.Vehicle
	VehiclesTotal int
	Trips         []db.Trip
	MoreTrips     bool // the month has more of their trips than shown
	CanRecord     bool
	OwnOnly       bool
	HistoryStart  string
	MemberID      int64
}

// BasisText says what a member's totals are based on, e.g. "Based on the
// 12 vehicles you can access." or "Based on all 40 vehicles of the
// account.", with the member's trip scopes.
func BasisText(b db.Basis) string {
	s := ""
	switch {
	case b.All && b.Vehicles == 1:
		s = "Based on the one vehicle of the account"
	case b.All:
		s = "Based on all " + strconv.Itoa(b.Vehicles) + " vehicles of the account"
	case b.Vehicles == 1:
		s = "Based on the 1 vehicle you can access"
	default:
		s = "Based on the " + strconv.Itoa(b.Vehicles) + " vehicles you can access"
	}
	if b.NoTrips {
		return s + ". Your role does not include 'View trips', so no trips are counted."
	}
	if b.OwnOnly {
		s += ", only the trips you drove"
	}
	if b.Since != "" {
		s += "; trips before " + b.Since + " are beyond your history limit and not counted"
	}
	return s + "."
}

// Chart is a small horizontal bar chart, drawn as SVG on the server. Each
// bar carries its label and value as text, so it reads without colour.
type Chart struct {
	ID     string // unique on the page; names the title and description
	Title  string
	Bars   []Bar
	Narrow bool // drawn for half the page's width
}

// Bar is one bar of a chart.
type Bar struct {
	Label string
	Value float64
	Text  string // the value as shown, e.g. "123.4 km"
}

// Chart geometry (SVG user units).
const (
	chartRow  = 26
	chartBarH = 16
)

// geometry is the chart's width, its label column and its value column.
func (c Chart) geometry() (width, label, value int) {
	if c.Narrow {
		return 400, 150, 90
	}
	return 640, 200, 110
}

// labelX is where the bars start.
func (c Chart) labelX() string {
	_, l, _ := c.geometry()
	return strconv.Itoa(l)
}

// placedBar is a bar with its position in the SVG.
type placedBar struct {
	Bar
	Y, TextY, W, ValueX string
}

func (c Chart) height() string { return strconv.Itoa(max(1, len(c.Bars))*chartRow + 4) }

func (c Chart) viewBox() string {
	w, _, _ := c.geometry()
	return "0 0 " + strconv.Itoa(w) + " " + c.height()
}

func (c Chart) placed() []placedBar {
	top := 0.0
	for _, b := range c.Bars {
		top = math.Max(top, b.Value)
	}
	width, labelW, valueW := c.geometry()
	span := float64(width - labelW - valueW)
	out := make([]placedBar, len(c.Bars))
	for i, b := range c.Bars {
		w := 0.0
		if top > 0 {
			w = math.Max(b.Value/top*span, 1)
		}
		y := i*chartRow + 4
		out[i] = placedBar{Bar: b, Y: strconv.Itoa(y), TextY: strconv.Itoa(y + chartBarH - 3),
			W: fmt.Sprintf("%.1f", w), ValueX: fmt.Sprintf("%.1f", float64(labelW)+w+6)}
	}
	return out
}

// description is the whole chart as one sentence, for assistive technology.
func (c Chart) description() string {
	s := ""
	for i, b := range c.Bars {
		if i > 0 {
			s += "; "
		}
		s += b.Label + ": " + b.Text
	}
	if s == "" {
		return "No data."
	}
	return s + "."
}

// purposeChart draws this month's and last month's distance by purpose.
func purposeChart(ctx context.Context, d db.Dashboard) Chart {
	c := Chart{ID: "chart-purpose", Title: "Distance by purpose"}
	for _, m := range []struct {
		name string
		ts   []db.PurposeTotal
	}{{d.Month, d.This}, {d.LastMonth, d.Last}} {
		for _, p := range m.ts {
			c.Bars = append(c.Bars, Bar{Label: p.Purpose + ", " + m.name, Value: p.Km, Text: Distance(ctx, p.Km)})
		}
	}
	return c
}

// rankChart draws a ranking's rows by distance.
func rankChart(ctx context.Context, id, title string, r db.Ranking) Chart {
	c := Chart{ID: id, Title: title, Narrow: true}
	for _, row := range r.Rows {
		c.Bars = append(c.Bars, Bar{Label: clipLabel(row.Name), Value: row.Km(), Text: Distance(ctx, row.Km())})
	}
	return c
}

// clipLabel shortens a chart label to fit its column.
func clipLabel(s string) string {
	r := []rune(s)
	if len(r) <= 20 {
		return s
	}
	return string(r[:19]) + "…"
}

// km1 is a distance in kilometres as a plain number with one decimal,
// for data attributes that tests and scripts read.
func km1(km float64) string { return fmt.Sprintf("%.1f", math.Round(km*10)/10) }

// splitShare is the business share of a total, e.g. "62%".
func splitShare(part, whole float64) string {
	if whole <= 0 {
		return "–"
	}
	return strconv.Itoa(int(math.Round(part/whole*100))) + "%"
}

func ptrip(ts []db.PurposeTotal, purpose string) db.PurposeTotal { return totalOf(ts, purpose) }

// myTripsURL is the trips list of the month, the member's own trips.
func myTripsURL(p MyHomePage) string {
	if p.OwnOnly {
		return "/trips?month=" + p.Month
	}
	return "/trips?month=" + p.Month + "&driver=" + itoa(p.MemberID)
}
