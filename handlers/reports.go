package handlers

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"fleetgate/db"
	"fleetgate/db/perm"
	"fleetgate/views"
)

// Home pages, the dashboard and the reports. Their totals are computed
// in db/reports.go over exactly what the member sees (their vehicles,
// and among their trips those their trip scopes show); the pages say
// what each total is based on.

// homeOf is where a member's work is, and where "/" and every login,
// setup, invitation and two-factor step lead:
//
//   - reports.view: the dashboard;
//   - a driver (trips.view, and trips.record or "own trips only"): their
//     vehicles and this month's trips;
//   - anyone else: the first section of the sidebar they may open
//     (users, roles, vehicles, trips, …, My profile).
//
// "/" when the member may open nothing at all (home then says so).
func homeOf(a *db.Actor) string {
	switch {
	case a == nil:
		return "/"
	case a.Can(perm.ReportsView):
		return "/dashboard"
	case a.Can(perm.TripsView) && (a.Can(perm.TripsRecord) || db.OwnTripsOnly(a)):
		return "/my"
	}
	if items := navFor(a); len(items) > 0 {
		return items[0].Href
	}
	return "/"
}

func (s *Server) dashboard(c echo.Context) error {
	a := actor(c)
	d, err := s.db.Dashboard(c.Request().Context(), a)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Dashboard(views.DashboardPage{Shell: s.shell(c, "Dashboard", "/dashboard"), D: d, CanReport: a.Can(perm.ReportsView)}))
}

// reports shows the report of the period from..to (dates of the account's
// calendar; by default this month up to today). A period that is not
// valid re-renders the form with a message next to the field (422).
func (s *Server) reports(c echo.Context) error {
	ctx, a := c.Request().Context(), actor(c)
	today := s.db.TodayFor(a)
	p := views.ReportPage{Shell: s.shell(c, "Reports", "/reports"), Errors: views.FieldMsgs{},
		From: strings.TrimSpace(clip(c.QueryParam("from"), 20)), To: strings.TrimSpace(clip(c.QueryParam("to"), 20))}
	if p.From == "" {
		p.From = today[:8] + "01"
	}
	if p.To == "" {
		p.To = today
	}
	period := db.ReportPeriod{From: p.From, To: p.To}
	if probs := period.Problems(); len(probs) > 0 {
		for f, msg := range probs {
			p.Errors[f] = msg
		}
		return render(c, http.StatusUnprocessableEntity, views.Reports(p))
	}
	r, err := s.db.Report(ctx, a, period)
	if err != nil {
		return err
	}
	p.R = &r
	if a.Can(perm.ReportsExport) {
		p.ExportURL = "/exports/trips.csv?" + url.Values{"from": {p.From}, "to": {p.To}}.Encode()
	}
	return render(c, http.StatusOK, views.Reports(p))
}

// myHomeVehicles and myHomeTrips bound the driver's home; the full lists
// are a link away.
const (
	myHomeVehicles = 20
	myHomeTrips    = 20
)

// myHome is a driver's home: the vehicles they see and their trips of
// this month.
func (s *Server) myHome(c echo.Context) error {
	ctx, a := c.Request().Context(), actor(c)
	month := s.db.TodayFor(a)[:7]
	p := views.MyHomePage{Shell: s.shell(c, "My vehicles and trips", ""), Month: month, CanRecord: a.Can(perm.TripsRecord),
		OwnOnly: db.OwnTripsOnly(a), HistoryStart: s.db.HistoryStart(a), MemberID: a.MemberID}
	var err error
	if p.Vehicles, p.VehiclesTotal, err = s.db.ListVehicles(ctx, a, db.VehicleFilter{PerPage: myHomeVehicles}); err != nil {
		return err
	}
	f := db.TripFilter{Month: month, PerPage: myHomeTrips}
	if !p.OwnOnly {
		f.DriverID = a.MemberID
	}
	var next string
	if p.Trips, next, err = s.db.ListTrips(ctx, a, f); err != nil {
		return err
	}
	p.MoreTrips = next != ""
	return render(c, http.StatusOK, views.MyHome(p))
}
