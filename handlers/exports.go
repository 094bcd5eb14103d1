package handlers

import (
	"archive/zip"
	"encoding/csv"
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"fleetgate/db"
	"fleetgate/db/perm"
	"fleetgate/views"
)

// Exports (reports.export): CSV downloads of trips for a period, vehicles,
// clients and the audit log, each exactly the member's scope (the db
// export functions apply the same rules as the pages), and the whole
// account as a zip of CSVs (account.export_all). Every export is streamed:
// rows are written as the database hands them over and flushed every
// flushEvery rows, so a year of a large account never sits in memory.
// Times are in the account's time zone, distances in its unit; every cell
// goes through csvSafe. Each export is recorded in the audit log.

const flushEvery = 1000

// exportStall is how long a download may make no progress: each flush
// moves the connection's write deadline this far ahead, so that an export
// longer than the server's write timeout goes on while the client reads.
const exportStall = time.Minute

// keepWriting extends the connection's write deadline, then flushes what
// was written to the client (extending first: the first rows may come
// after a long sort, later than the deadline set at the start).
func keepWriting(c echo.Context) {
	_ = http.NewResponseController(c.Response()).SetWriteDeadline(time.Now().Add(exportStall))
	c.Response().Flush()
}

// exportsPage lists what the member may export, with the trips period form.
func (s *Server) exportsPage(c echo.Context) error {
	return s.renderExports(c, http.StatusOK, s.defaultPeriod(c), nil)
}

// defaultPeriod is the last twelve months up to today (account calendar).
func (s *Server) defaultPeriod(c echo.Context) views.ExportPeriod {
	a := actor(c)
	today, _ := time.Parse(time.DateOnly, s.db.TodayFor(a))
	return views.ExportPeriod{From: today.AddDate(-1, 0, 1).Format(time.DateOnly), To: today.Format(time.DateOnly)}
}

func (s *Server) renderExports(c echo.Context, status int, p views.ExportPeriod, errs map[string]string) error {
	a := actor(c)
	pg := views.ExportsPage{
		Period:     p,
		Errors:     errs,
		Trips:      a.Can(perm.TripsView),
		Vehicles:   a.Can(perm.VehiclesView),
		Clients:    a.Can(perm.ClientsView),
		Audit:      a.Can(perm.AuditView),
		Account:    a.Can(perm.AccountExport),
		OwnOnly:    db.OwnTripsOnly(a),
		Since:      s.db.HistoryStart(a),
		AllVehicle: a.VehicleAccess == "all",
	}
	pg.Shell = s.shell(c, "Exports", "/exports")
	return render(c, status, views.Exports(pg))
}

// csvOut starts a CSV download: headers, status, and a writer whose rows
// are flushed to the client every flushEvery rows.
type csvOut struct {
	c echo.Context
	w *csv.Writer
	n int
}

func startCSV(c echo.Context, filename string, header ...string) *csvOut {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="`+filename+`"`)
	_ = http.NewResponseController(c.Response()).SetWriteDeadline(time.Now().Add(exportStall))
	c.Response().WriteHeader(http.StatusOK)
	o := &csvOut{c: c, w: csv.NewWriter(c.Response())}
	_ = o.w.Write(header)
	return o
}

// row writes one record, neutralised against formulas.
func (o *csvOut) row(cells ...string) error {
	if err := o.w.Write(csvSafe(cells...)); err != nil {
		return err
	}
	if o.n++; o.n%flushEvery == 0 {
		o.w.Flush()
		keepWriting(o.c)
	}
	return o.w.Error()
}

func (o *csvOut) end() error {
	o.w.Flush()
	return o.w.Error()
}

// exportTrips is the trips of a period (from, to: YYYY-MM-DD, at most a
// year) that the member sees.
func (s *Server) exportTrips(c echo.Context) error {
	a := actor(c)
	p := views.ExportPeriod{From: clip(c.QueryParam("from"), 10), To: clip(c.QueryParam("to"), 10)}
	if p.From == "" && p.To == "" {
		p = s.defaultPeriod(c)
	}
	if err := db.CheckExportPeriod(p.From, p.To); err != nil {
		var e *db.Error
		if !errors.As(err, &e) {
			return err
		}
		return s.renderExports(c, http.StatusUnprocessableEntity, p, map[string]string{e.Field: e.Message})
	}
	if err := s.db.Exported(c.Request().Context(), a, "trips", "trips "+p.From+" to "+p.To); err != nil {
		return err
	}
	unit := a.DistanceUnit
	if unit != "mi" {
		unit = "km"
	}
	out := startCSV(c, "trips-"+p.From+"-"+p.To+".csv", "trip_id", "date", "vehicle", "plate", "driver", "client", "purpose",
		"distance_"+unit, "odometer_start_km", "odometer_end_km", "from", "to", "note")
	err := s.db.ExportTrips(c.Request().Context(), a, p.From, p.To, func(t db.ExportTrip) error {
		start, end := "", ""
		if t.HasOdo {
			start, end = strconv.FormatInt(t.OdoStart, 10), strconv.FormatInt(t.OdoEnd, 10)
		}
		return out.row(strconv.FormatInt(t.ID, 10), t.Date, t.VehicleName, t.Plate, t.DriverName, t.ClientName, t.Purpose, distance(t.DistanceKm, unit),
			start, end, t.StartPlace, t.EndPlace, t.Note)
	})
	if err != nil {
		return err
	}
	return out.end()
}

// distance is a distance in km as a number in unit, to two decimals.
func distance(km float64, unit string) string {
	if unit == "mi" {
		km /= views.KmPerMile
	}
	return strconv.FormatFloat(math.Round(km*100)/100, 'f', -1, 64)
}

// exportVehicles is the vehicles the member sees, archived ones included.
func (s *Server) exportVehicles(c echo.Context) error {
	a := actor(c)
	if err := s.db.Exported(c.Request().Context(), a, "vehicles", "vehicles"); err != nil {
		return err
	}
	loc := a.Location()
	out := startCSV(c, "vehicles.csv", "name", "plate", "vin", "group", "status", "odometer_km", "your_access", "paired_clients", "created")
	err := s.db.ExportVehicles(c.Request().Context(), a, func(v db.Vehicle) error {
		return out.row(v.Name, v.Plate, v.VIN, v.GroupName, v.Status, strconv.FormatInt(v.OdometerKm, 10), v.Level.String(),
			strconv.Itoa(v.Clients), v.CreatedAt.In(loc).Format(time.RFC3339))
	})
	if err != nil {
		return err
	}
	return out.end()
}

// exportClients is the clients the member sees.
func (s *Server) exportClients(c echo.Context) error {
	a := actor(c)
	if err := s.db.Exported(c.Request().Context(), a, "clients", "clients"); err != nil {
		return err
	}
	out := startCSV(c, "clients.csv", "name", "email", "phone", "address", "paired_vehicles")
	err := s.db.ExportClients(c.Request().Context(), a, func(cl db.Client) error {
		return out.row(cl.Name, cl.Email, cl.Phone, cl.Address, strconv.Itoa(cl.Vehicles))
	})
	if err != nil {
		return err
	}
	return out.end()
}

// exportAudit is the audit log as the member may read it, with the log
// page's filters (person, kind, from, to) when given.
func (s *Server) exportAudit(c echo.Context) error {
	a := actor(c)
	f, _, err := s.auditQuery(c)
	if err != nil {
		return err
	}
	if err := s.db.Exported(c.Request().Context(), a, "audit", "the audit log"); err != nil {
		return err
	}
	loc := a.Location()
	out := startCSV(c, "audit-log.csv", "when", "summary", "who", "to_whom", "kind", "before", "after")
	err = s.db.ExportAudit(c.Request().Context(), a, f, func(e db.AuditEntry) error {
		return out.row(e.At.In(loc).Format(time.RFC3339), e.Summary, e.ActorName, e.Target, e.Kind, e.Before, e.After)
	})
	if err != nil {
		return err
	}
	return out.end()
}

// exportAccount is the whole account as a zip of CSV files, written to the
// client as it is read (account.export_all).
func (s *Server) exportAccount(c echo.Context) error {
	a := actor(c)
	ctx := c.Request().Context()
	if err := s.db.Exported(ctx, a, "account", "the whole account"); err != nil {
		return err
	}
	loc, unit := a.Location(), a.DistanceUnit
	if unit != "mi" {
		unit = "km"
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "application/zip")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="account-`+time.Now().In(loc).Format(time.DateOnly)+`.zip"`)
	_ = http.NewResponseController(c.Response()).SetWriteDeadline(time.Now().Add(exportStall))
	c.Response().WriteHeader(http.StatusOK)
	zw := zip.NewWriter(c.Response())
	var w *csv.Writer
	var t db.ExportTable
	n := 0
	err := s.db.ExportAccount(ctx, a, func(next db.ExportTable) error {
		if w != nil {
			if w.Flush(); w.Error() != nil {
				return w.Error()
			}
		}
		f, err := zw.CreateHeader(&zip.FileHeader{Name: next.Name + ".csv", Method: zip.Deflate, Modified: time.Now()})
		if err != nil {
			return err
		}
		t, w = next, csv.NewWriter(f)
		header := make([]string, len(t.Columns))
		for i, col := range t.Columns {
			header[i] = col.Name
			if col.Kind == db.ColDistance {
				header[i] += "_" + unit
			}
		}
		return w.Write(header)
	}, func(cells []string) error {
		for i, col := range t.Columns {
			switch {
			case cells[i] == "":
			case col.Kind == db.ColTime:
				if at, err := time.Parse(time.RFC3339Nano, cells[i]); err == nil {
					cells[i] = at.In(loc).Format(time.RFC3339)
				}
			case col.Kind == db.ColDistance:
				if km, err := strconv.ParseFloat(cells[i], 64); err == nil {
					cells[i] = distance(km, unit)
				}
			}
		}
		if err := w.Write(csvSafe(cells...)); err != nil {
			return err
		}
		if n++; n%flushEvery == 0 {
			w.Flush()
			keepWriting(c)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if w != nil {
		if w.Flush(); w.Error() != nil {
			return w.Error()
		}
	}
	return zw.Close()
}
