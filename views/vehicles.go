package views

import (
	"strconv"
	"strings"

	"fleetgate/db"
)

// View models of the vehicles feature: vehicles, groups, clients, pairing,
// members' vehicle access and the subscription.

// VehiclesFilter is the vehicle list's filter as typed.
type VehiclesFilter struct {
	Q       string
	GroupID int64
	Status  string
}

// VehiclesPage is the vehicle list.
type VehiclesPage struct {
	Shell      Shell
	Filter     VehiclesFilter
	Groups     []db.Group
	Rows       []db.Vehicle
	Pager      Pager
	Back       string // this list's address, for forms that come back to it
	CanCreate  bool
	CanEdit    bool
	CanArchive bool
	CanExport  bool // offers the CSV export
}

// VehicleForm is the new/edit vehicle form.
type VehicleForm struct {
	Shell        Shell
	ID           int64 // 0 for a new vehicle
	Name         string
	Plate        string
	VIN          string
	Odometer     string
	GroupID      int64
	Groups       []db.Group // groups the vehicle may go to
	AllowNoGroup bool
	Errors       map[string]string
	Error        string // about the whole form (e.g. the paid vehicles are used up)
	Free         int    // places left on the subscription (new vehicles)
	Version      int    // the version the edit started from
	Conflict     Conflict
}

// VehiclePage is one vehicle.
type VehiclePage struct {
	Shell         Shell
	V             db.Vehicle
	CanEdit       bool
	CanArchive    bool
	CanPair       bool
	CanSeeClients bool
	CanSeeMembers bool
	CanSeeTrips   bool
	Clients       []db.Client // a first few paired clients (read-only view)
	ClientsTotal  int
	Watching      bool // the viewer watches it (e-mails about its changes)
}

// VehicleMembersPage answers "who can see this vehicle?".
type VehicleMembersPage struct {
	Shell Shell
	V     db.Vehicle
	Rows  []db.VehicleMember
	Pager Pager
}

// GroupForm is the state of a group form (new, or the edit of ID).
type GroupForm struct {
	ID       int64
	Name     string
	ParentID int64
	Errors   map[string]string
	Error    string
	Version  int // the version the edit started from
	Conflict Conflict
}

// VehiclesWithin counts the active vehicles in the i-th group and in its
// sub-groups (those the viewer sees): what access to the group covers.
func (p GroupsPage) VehiclesWithin(i int) int {
	n := p.Groups[i].Active
	for _, y := range p.Groups[i+1:] { // the tree is depth-first
		if y.Depth <= p.Groups[i].Depth {
			break
		}
		n += y.Active
	}
	return n
}

// GroupsPage is the group tree.
type GroupsPage struct {
	Shell    Shell
	Groups   []db.Group
	Managed  []db.Group // where groups may be created or moved to
	CanEdit  bool
	AllowTop bool // may create/move groups at the top level
	New      GroupForm
	Edit     GroupForm // a failed edit, shown open
}

// chosenParent is the parent selected in g's edit form: the one typed
// when a save of g failed, otherwise where g is.
func (p GroupsPage) chosenParent(g db.Group) int64 {
	if p.Edit.ID == g.ID {
		return p.Edit.ParentID
	}
	return g.ParentID
}

// ParentChoices are the places group g may move to: the managed groups
// outside g's own subtree, and its current parent.
func (p GroupsPage) ParentChoices(g db.Group) []db.Group {
	excluded := map[int64]bool{g.ID: true}
	for i, x := range p.Groups {
		if x.ID != g.ID {
			continue
		}
		for _, y := range p.Groups[i+1:] { // the tree is depth-first
			if y.Depth <= g.Depth {
				break
			}
			excluded[y.ID] = true
		}
		break
	}
	var out []db.Group
	for _, m := range p.Managed {
		if !excluded[m.ID] {
			out = append(out, m)
		}
	}
	return out
}

// ParentKnown reports whether g's current parent is among the choices.
func (p GroupsPage) ParentKnown(g db.Group) bool {
	if g.ParentID == 0 {
		return p.AllowTop
	}
	for _, m := range p.ParentChoices(g) {
		if m.ID == g.ParentID {
			return true
		}
	}
	return false
}

// ClientsPage is the client list.
type ClientsPage struct {
	Shell     Shell
	Q         string
	Rows      []db.Client
	Pager     Pager
	CanManage bool
	CanExport bool // offers the CSV export
}

// ClientForm is the new/edit client form.
type ClientForm struct {
	Shell    Shell
	ID       int64
	Name     string
	Email    string
	Phone    string
	Address  string
	Errors   map[string]string
	Version  int // the version the edit started from
	Conflict Conflict
}

// ClientPage is one client.
type ClientPage struct {
	Shell          Shell
	C              db.Client
	CanManage      bool
	CanPair        bool
	CanSeeVehicles bool
	Vehicles       []db.Vehicle // a first few paired vehicles (read-only view)
}

// PairCell is one toggle of the pairing screens.
type PairCell struct {
	CSRF      string
	Vehicle   db.Vehicle
	Client    db.Client
	Paired    bool
	CanToggle bool
	Back      string // where a browser without script returns
	// Elsewhere counts the vehicle's paired clients the grid does not show
	// now (other pages, other searches): a toggle changes the pairings
	// shown and the total alike, so the number travels with the form.
	Elsewhere int
	Saved     bool // the answer to a toggle: the box says it was saved
}

// ID is the cell's element id.
func (c PairCell) ID() string { return "pair-" + itoa(c.Vehicle.ID) + "-" + itoa(c.Client.ID) }

// AxisPager is previous/next over one axis of the pairing grid.
type AxisPager struct {
	Range      string
	Prev, Next string // addresses; "" when there is none
}

// PairingPage is the grid of vehicles against clients.
type PairingPage struct {
	Shell    Shell
	VQ, CQ   string
	GroupID  int64
	Groups   []db.Group
	Grid     db.PairingGrid
	Vehicles AxisPager
	Clients  AxisPager
	Back     string
}

// Cell is the toggle for one vehicle and client of the grid.
func (p PairingPage) Cell(v db.Vehicle, c db.Client) PairCell {
	return PairCell{CSRF: p.Shell.CSRF, Vehicle: v, Client: c, Paired: p.Grid.Paired.Has(v.ID, c.ID), CanToggle: v.Level == db.Manage, Back: p.Back,
		Elsewhere: p.Elsewhere(v)}
}

// Elsewhere counts a vehicle's paired clients that are not columns of the grid now.
func (p PairingPage) Elsewhere(v db.Vehicle) int {
	shown := 0
	for _, c := range p.Grid.Clients {
		if p.Grid.Paired.Has(v.ID, c.ID) {
			shown++
		}
	}
	return max(0, v.Clients-shown)
}

// VehicleClientsPart is a vehicle's pairing editor (its clients).
type VehicleClientsPart struct {
	Shell      Shell
	V          db.Vehicle
	Q          string
	PairedOnly bool
	Rows       []db.Client
	Paired     db.Pairs
	Pager      Pager
	Back       string
}

// ClientVehiclesPart is a client's pairing editor (its vehicles).
type ClientVehiclesPart struct {
	Shell      Shell
	C          db.Client
	Q          string
	PairedOnly bool
	Rows       []db.Vehicle
	Paired     db.Pairs
	Pager      Pager
	Back       string
}

// AccessGrantForm is the state of a failed grant form.
type AccessGrantForm struct {
	Kind     string
	TargetID int64
	Level    string
	EndsOn   string
	Error    string
	Field    string
}

// VehicleAccessPage is a member's vehicle access editor and explainer.
type VehicleAccessPage struct {
	Shell        Shell
	M            db.MemberAccess
	CanEdit      bool   // the actor may change this member's access
	Refusal      string // why not, when they manage users but may not act on this member
	GrantRefusal string // why the actor may take grants away but not give any
	CanGiveAll   bool
	Groups       []db.Group // groups the actor may give (covered by their grants)
	EndingSoon   []db.Grant
	VQ           string
	Found        []db.Vehicle // vehicles found to grant
	FoundTotal   int
	Explain      []db.ExplainedVehicle
	ExplainPager Pager
	Form         AccessGrantForm
	Today        string
	Back         string
}

// fieldError returns the message for a field ("" for none).
func fieldError(errs map[string]string, field string) string { return errs[field] }

// ariaInvalid is the value of aria-invalid for a field.
func ariaInvalid(errs map[string]string, field string) string {
	if errs[field] != "" {
		return "true"
	}
	return "false"
}

// km formats a distance, e.g. "12,345 km".
func km(n int64) string { return thousands(int(n)) + " km" }

// groupOption is a group's label in a select: indented by depth.
func groupOption(g db.Group) string {
	return strings.Repeat("\u00a0\u00a0", g.Depth) + g.Name
}

// depthClass indents a row of the group tree (CSS has depth-0 … depth-6).
func depthClass(d int) string { return "depth-" + strconv.Itoa(min(d, 6)) }

func pairedWord(on bool) string {
	if on {
		return "paired with"
	}
	return "no longer paired with"
}

// pairedSummary says which clients a vehicle may be used with.
func pairedSummary(n int) string {
	switch n {
	case 0:
		return "any client"
	case 1:
		return "1 paired client"
	}
	return strconv.Itoa(n) + " paired clients"
}

func i2s(n int) string { return strconv.Itoa(n) }

// reasons reads a member's reasons to see a vehicle, e.g.
// "group North, manage; direct, view".
func reasons(rs []db.Reason) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.String()
	}
	return strings.Join(parts, "; ")
}

// groupDescribedBy points the group select at its hint and, when there is
// one, its message.
func groupDescribedBy(errs map[string]string) string {
	if errs["group_id"] != "" {
		return "vehicle-group-hint vehicle-group-error"
	}
	return "vehicle-group-hint"
}
