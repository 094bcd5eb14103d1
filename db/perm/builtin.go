package perm

// Builtin identifies a built-in role; custom roles have none.
type Builtin string

const (
	Owner         Builtin = "owner"
	Admin         Builtin = "admin"
	Manager       Builtin = "manager"
	Accountant    Builtin = "accountant"
	Driver        Builtin = "driver"
	Notifications Builtin = "notifications"
)

// BuiltinRole describes a role created with every account.
type BuiltinRole struct {
	Builtin  Builtin
	Name     string
	MeantFor string
	Defaults Set
}

// BuiltinRoles lists the built-in roles in display order with the
// permissions each account starts with.
func BuiltinRoles() []BuiltinRole {
	return []BuiltinRole{
		{Owner, "Owner", "The account's creator: every permission, always.", Everything()},
		{Admin, "Admin", "Runs the account day to day.", Everything()},
		{Manager, "Manager", "Runs some vehicles, within their own vehicle access.", Of(
			ReportsView,
			VehiclesView, VehiclesCreate, VehiclesEdit, VehiclesArchive,
			TripsView, TripsRecord, TripsEdit, TripsRecurring, TripsFinalize,
			ClientsView, ClientsManage, PairingManage,
			UsersView, UsersManage)},
		{Accountant, "Accountant (read-only)", "Bookkeeping: sees, exports, changes nothing.", Of(
			ReportsView, ReportsExport, VehiclesView, TripsView, ClientsView,
			UsersView, RolesView, BillingView, AuditView)},
		{Driver, "Driver", "Field work through the mobile channel.", Set{
			VehiclesView: {},
			TripsView:    {ScopeOwnOnly: 1},
			TripsRecord:  {},
		}},
		{Notifications, "Notifications only", "Receives e-mails; cannot log in.", Set{}},
	}
}
