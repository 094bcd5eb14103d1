// Package perm holds the permission catalog: every permission the console
// knows, grouped by module, with its label, help text, prerequisites and
// scope settings, plus the defaults of the built-in roles. It is plain data
// and small pure functions so that the database (which seeds roles), the
// policy middleware and the views all read the same table.
package perm

// Key names one permission, e.g. "vehicles.edit".
type Key string

const (
	ReportsView     Key = "reports.view"
	ReportsExport   Key = "reports.export"
	AccountExport   Key = "account.export_all"
	VehiclesView    Key = "vehicles.view"
	VehiclesCreate  Key = "vehicles.create"
	VehiclesEdit    Key = "vehicles.edit"
	VehiclesArchive Key = "vehicles.archive"
	TripsView       Key = "trips.view"
	TripsRecord     Key = "trips.record"
	TripsEdit       Key = "trips.edit"
	TripsRecurring  Key = "trips.recurring"
	TripsFinalize   Key = "trips.finalize"
	ClientsView     Key = "clients.view"
	ClientsManage   Key = "clients.manage"
	PairingManage   Key = "pairing.manage"
	UsersView       Key = "users.view"
	UsersManage     Key = "users.manage"
	UsersDelete     Key = "users.delete"
	RolesView       Key = "roles.view"
	RolesManage     Key = "roles.manage"
	AccountSettings Key = "account.settings"
	BillingView     Key = "billing.view"
	BillingManage   Key = "billing.manage"
	AuditView       Key = "audit.view"
)

// ScopeKind tells how a scope value is entered and stored.
type ScopeKind string

const (
	ScopeBool ScopeKind = "bool" // a checkbox; stored as 0 or 1
	ScopeDays ScopeKind = "days" // a whole number of days; 0 means no limit
)

// Scope names a setting that narrows a permission while it is on.
type Scope struct {
	Key   string
	Label string
	Help  string
	Kind  ScopeKind
	Max   int // upper bound for ScopeDays
}

// Scope keys used by the trips module.
const (
	ScopeOwnOnly     = "own_only"
	ScopeHistoryDays = "history_days"
)

// Permission is one row of the matrix.
type Permission struct {
	Key      Key
	Label    string
	Help     string
	Requires []Key
	Scopes   []Scope
}

// Module groups permissions as the matrix shows them.
type Module struct {
	Name        string
	Permissions []Permission
}

// Catalog is the single list of permissions, in display order.
var Catalog = []Module{
	{"Dashboard & reports", []Permission{
		{Key: ReportsView, Label: "View dashboard and reports", Help: "See totals and reports over the vehicles this person can see."},
		{Key: ReportsExport, Label: "Export reports", Help: "Download reports as CSV.", Requires: []Key{ReportsView}},
		{Key: AccountExport, Label: "Export all account data", Help: "Download a full export of the account's data.", Requires: []Key{ReportsExport}},
	}},
	{"Vehicles", []Permission{
		{Key: VehiclesView, Label: "View vehicles", Help: "See the vehicles in this person's vehicle access."},
		{Key: VehiclesCreate, Label: "Create vehicles", Help: "Add vehicles, up to the subscription's paid number.", Requires: []Key{VehiclesView}},
		{Key: VehiclesEdit, Label: "Edit vehicles", Help: "Change name, plate, VIN, group and odometer of managed vehicles.", Requires: []Key{VehiclesView}},
		{Key: VehiclesArchive, Label: "Archive vehicles", Help: "Archive and restore managed vehicles.", Requires: []Key{VehiclesView}},
	}},
	{"Trips", []Permission{
		{Key: TripsView, Label: "View trips", Help: "See the mileage log of visible vehicles.", Requires: []Key{VehiclesView}, Scopes: []Scope{
			{Key: ScopeOwnOnly, Label: "Own trips only", Help: "Only trips this person drove.", Kind: ScopeBool},
			{Key: ScopeHistoryDays, Label: "History limited to (days)", Help: "0 means no limit.", Kind: ScopeDays, Max: 3650},
		}},
		{Key: TripsRecord, Label: "Record trips", Help: "Add trips to managed vehicles as their driver, and change or delete one's own.", Requires: []Key{TripsView}},
		{Key: TripsEdit, Label: "Edit trips", Help: "Change or delete anyone's trips of managed vehicles, and name another driver.", Requires: []Key{TripsView}},
		{Key: TripsRecurring, Label: "Recurring trips", Help: "Set up trips that repeat on chosen weekdays and fill a month with them.", Requires: []Key{TripsRecord}},
		{Key: TripsFinalize, Label: "Finalize months", Help: "Close a month's log so it can no longer change.", Requires: []Key{TripsEdit}},
	}},
	{"Clients", []Permission{
		{Key: ClientsView, Label: "View clients", Help: "See the clients usable with visible vehicles."},
		{Key: ClientsManage, Label: "Manage clients", Help: "Create, edit and delete clients; see all of them.", Requires: []Key{ClientsView}},
		{Key: PairingManage, Label: "Manage pairing", Help: "Pair vehicles with the clients they may be used for.", Requires: []Key{ClientsView, VehiclesView}},
	}},
	{"Users & roles", []Permission{
		{Key: UsersView, Label: "View users", Help: "See the account's members and their access."},
		{Key: UsersManage, Label: "Manage users", Help: "Invite, add, edit and deactivate members, within one's own rights.", Requires: []Key{UsersView}},
		{Key: UsersDelete, Label: "Delete users", Help: "Remove members permanently.", Requires: []Key{UsersManage}},
		{Key: RolesView, Label: "View roles", Help: "See roles and their permissions."},
		{Key: RolesManage, Label: "Manage roles", Help: "Create, change and delete roles, within one's own rights.", Requires: []Key{RolesView}},
	}},
	{"Account", []Permission{
		{Key: AccountSettings, Label: "Account settings", Help: "Change the account's name and settings."},
		{Key: BillingView, Label: "View subscription", Help: "See plan dates and paid vehicles."},
		{Key: BillingManage, Label: "Manage subscription", Help: "Change the subscription.", Requires: []Key{BillingView}},
		{Key: AuditView, Label: "View audit log", Help: "See who changed what, and when."},
	}},
}

var byKey = func() map[Key]*Permission {
	m := map[Key]*Permission{}
	for mi := range Catalog {
		for pi := range Catalog[mi].Permissions {
			p := &Catalog[mi].Permissions[pi]
			m[p.Key] = p
		}
	}
	return m
}()

// Lookup returns the catalog entry for k.
func Lookup(k Key) (Permission, bool) {
	p, ok := byKey[k]
	if !ok {
		return Permission{}, false
	}
	return *p, true
}

// Label returns the human label of k, or k itself when unknown.
func Label(k Key) string {
	if p, ok := byKey[k]; ok {
		return p.Label
	}
	return string(k)
}

// All returns every key in catalog order.
func All() []Key {
	var out []Key
	for _, m := range Catalog {
		for _, p := range m.Permissions {
			out = append(out, p.Key)
		}
	}
	return out
}
