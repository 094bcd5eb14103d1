package views

import (
	"context"

	"fleetgate/db"
)

// View models of the trips feature: the monthly log of a vehicle, the
// list across vehicles, the trip form and recurring trips.

// TripsFilter is a trip list's filter as chosen.
type TripsFilter struct {
	VehicleID int64
	DriverID  int64
	ClientID  int64
	Purpose   string
	Month     string
}

// TripsPage is the monthly log of one vehicle (Vehicle set) or the list
// of trips across the visible vehicles.
type TripsPage struct {
	Shell     Shell
	Vehicle   *db.Vehicle
	Filter    TripsFilter
	Rows      []db.Trip
	Totals    []db.PurposeTotal // nil when not computed (no vehicle chosen)
	NextURL   string            // the following page ("" on the last)
	FirstURL  string            // the first page, when on a later one
	PrevMonth string            // addresses of the neighbour months
	NextMonth string
	Final     bool // the vehicle's month is finalized
	// What the actor may do here (the routes and db check again).
	CanRecord    bool
	CanFinalize  bool
	CanRecurring bool
	OwnOnly      bool
	HistoryStart string
	Vehicles     []db.Vehicle // filter choices (/trips)
	Clients      []db.Client
	Drivers      []db.MemberRow // driver choices, for those who may list members
	MemberID     int64
	// ExportURL is the CSV export of the month's trips ("" when the
	// member may not export).
	ExportURL string
}

// TripForm is the record/edit form of a trip.
type TripForm struct {
	Shell      Shell
	Vehicle    db.Vehicle
	ID         int64 // 0 for a new trip
	Version    int
	Date       string
	OdoStart   string
	OdoEnd     string
	Distance   string
	StartPlace string
	EndPlace   string
	Purpose    string
	Note       string
	ClientID   int64
	DriverID   int64
	Clients    []db.Client // those rule 4 allows with the vehicle
	Drivers    []db.VehicleMember
	Errors     map[string]string
	Error      string
	Current    *db.Trip // the trip as saved now, after a refused stale save
	CanDelete  bool
	Back       string
}

// RecurringPage lists a vehicle's recurring trips, with the new-template
// form and, when asked, the preview of filling a month.
type RecurringPage struct {
	Shell     Shell
	Vehicle   db.Vehicle
	Templates []db.Template
	Clients   []db.Client
	Form      TemplateForm
	Month     string
	Preview   *FillPreview
}

// TemplateForm is the new recurring trip form.
type TemplateForm struct {
	Weekdays   int
	Distance   string
	StartPlace string
	EndPlace   string
	ClientID   int64
	Purpose    string
	Note       string
	Errors     map[string]string
	Error      string
}

// FillPreview is what filling a month with a template would add.
type FillPreview struct {
	Template db.Template
	Month    string
	Days     []string
	Error    string
}

// dist shows a distance stored in kilometres in the account's unit.
func dist(ctx context.Context, km float64) string { return Distance(ctx, km) }

func odo(t db.Trip) string {
	if !t.HasOdo {
		return "—"
	}
	return thousands(int(t.OdoStart)) + " – " + thousands(int(t.OdoEnd))
}

func totalOf(ts []db.PurposeTotal, purpose string) db.PurposeTotal {
	for _, t := range ts {
		if t.Purpose == purpose {
			return t
		}
	}
	return db.PurposeTotal{Purpose: purpose}
}

func sumKm(ts []db.PurposeTotal) float64 {
	var s float64
	for _, t := range ts {
		s += t.Km
	}
	return s
}

func sumTrips(ts []db.PurposeTotal) int {
	n := 0
	for _, t := range ts {
		n += t.Trips
	}
	return n
}

func weekdayOn(mask, i int) bool { return mask&(1<<i) != 0 }

func tripsBase(p TripsPage) string {
	if p.Vehicle != nil {
		return "/vehicles/" + itoa(p.Vehicle.ID) + "/trips"
	}
	return "/trips"
}
