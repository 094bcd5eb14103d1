package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"fleetgate/db/perm"
)

// Need is what a route requires of the visitor. The zero Need is invalid:
// every route must say which one it is.
type Need struct {
	kind needKind
	perm perm.Key
	alt  perm.Key // the second permission of an either-or or an all-of need
}

type needKind int

const (
	needUnset    needKind = iota
	needPublic            // anyone, logged in or not
	needSignedIn          // any member with a console session
	needPerm              // a member whose role holds perm
	needOwner             // the account Owner only (no permission can grant it)
	needEither            // a member whose role holds perm or alt
	needBoth              // a member whose role holds perm and alt
)

// Public routes need nothing.
var Public = Need{kind: needPublic}

// SignedIn routes need a session but no particular permission.
var SignedIn = Need{kind: needSignedIn}

// OwnerOnly routes are for the account Owner alone, e.g. handing over ownership.
var OwnerOnly = Need{kind: needOwner}

// Perm routes need one permission of the catalog.
func Perm(k perm.Key) Need {
	if _, ok := perm.Lookup(k); !ok {
		panic("unknown permission " + string(k))
	}
	return Need{kind: needPerm, perm: k}
}

// EitherPerm routes need one of two permissions, e.g. changing a trip
// (one's own with trips.record, anyone's with trips.edit; which trip is
// whose is decided with the row, in db).
func EitherPerm(a, b perm.Key) Need {
	Perm(a)
	Perm(b)
	return Need{kind: needEither, perm: a, alt: b}
}

// BothPerms routes need two permissions at once, e.g. exporting the audit
// log (reports.export to export, audit.view to read the log), or the
// access review (users.manage for who holds what, audit.view for what
// they did with it). The Owner holds every permission, so always passes.
func BothPerms(a, b perm.Key) Need {
	Perm(a)
	Perm(b)
	return Need{kind: needBoth, perm: a, alt: b}
}

// String names the need for tests and logs.
func (n Need) String() string {
	switch n.kind {
	case needPublic:
		return "public"
	case needSignedIn:
		return "signed-in"
	case needPerm:
		return string(n.perm)
	case needOwner:
		return "owner"
	case needEither:
		return string(n.perm) + "|" + string(n.alt)
	case needBoth:
		return string(n.perm) + "&" + string(n.alt)
	}
	return "UNSET"
}

// Declared reports whether the route said what it needs.
func (n Need) Declared() bool { return n.kind != needUnset }

// Route is one line of the route table.
type Route struct {
	Method  string
	Path    string
	Need    Need
	Handler echo.HandlerFunc
}

func (r Route) register(e *echo.Echo, s *Server) {
	if !r.Need.Declared() {
		panic("route " + r.Method + " " + r.Path + " declares no permission")
	}
	e.Add(r.Method, r.Path, r.Handler, s.authorize(r.Need))
}

const (
	GET    = http.MethodGet
	POST   = http.MethodPost
	PUT    = http.MethodPut
	DELETE = http.MethodDelete
)

// routes is the route table: every address of the console, what it
// needs, and who answers. Nothing is registered anywhere else.
func (s *Server) routes() []Route {
	return []Route{
		// Health for operators and load balancers (handlers/health.go).
		{GET, "/livez", Public, s.livez},
		{GET, "/readyz", Public, s.readyz},
		{GET, "/healthz", Public, s.readyz}, // the former address: same answer as /readyz
		{GET, "/static/*", Public, s.static},
		{GET, "/favicon.ico", Public, s.favicon},
		{GET, "/login", Public, s.loginPage},
		{POST, "/login", Public, s.login},
		// The second step of a login with two-factor sign-in (handlers/two_factor.go):
		// reachable only with the pending step's cookie.
		{GET, "/login/two-factor", Public, s.loginCodePage},
		{POST, "/login/two-factor", Public, s.loginCode},
		{POST, "/logout", SignedIn, s.logout},
		{GET, "/", SignedIn, s.home},
		// Home pages, dashboard and reports (handlers/reports.go): totals
		// over the member's own scope, computed in db/reports.go.
		{GET, "/dashboard", Perm(perm.ReportsView), s.dashboard},
		{GET, "/reports", Perm(perm.ReportsView), s.reports},
		{GET, "/my", Perm(perm.TripsView), s.myHome},
		{POST, "/account/switch", SignedIn, s.switchAccount},

		// Users (handlers/users.go, members.go): the list, one member's page,
		// and what users.manage may do to a member within its reach (db/reach.go).
		{GET, "/users", Perm(perm.UsersView), s.usersList},
		{GET, "/users/export.csv", Perm(perm.UsersView), s.usersCSV},
		{POST, "/users/bulk", Perm(perm.UsersManage), s.usersBulk},
		{GET, "/users/:id", Perm(perm.UsersView), s.memberShow},
		{POST, "/users/:id", Perm(perm.UsersManage), s.memberSave},
		{GET, "/users/:id/deactivate", Perm(perm.UsersManage), s.deactivatePage},
		{POST, "/users/:id/deactivate", Perm(perm.UsersManage), s.deactivate},
		{POST, "/users/:id/reactivate", Perm(perm.UsersManage), s.reactivate},
		{GET, "/users/:id/delete", Perm(perm.UsersDelete), s.deletePage},
		{POST, "/users/:id/delete", Perm(perm.UsersDelete), s.deleteMember},
		{POST, "/users/:id/ownership", OwnerOnly, s.transferOwnership},
		{POST, "/users/:id/preview", Perm(perm.UsersManage), s.previewStart},
		{POST, "/preview/exit", SignedIn, s.previewExit},
		{GET, "/users/:id/sign-ins", Perm(perm.UsersManage), s.memberSignIns},
		// What giving a role or a group would change (handlers/access_review.go).
		{GET, "/users/:id/what-if", Perm(perm.UsersManage), s.whatIf},

		// The JSON API (mobile channel): same policy, bearer tokens.
		{GET, "/api/v1/openapi.json", Public, s.apiSpec},
		{POST, "/api/v1/tokens", Public, s.apiCreateToken},
		{DELETE, "/api/v1/tokens/current", SignedIn, s.apiRevokeToken},
		{GET, "/api/v1/me", SignedIn, s.apiMe},
		{GET, "/api/v1/users", Perm(perm.UsersView), s.apiUsers},
		{GET, "/api/v1/vehicles", Perm(perm.VehiclesView), s.apiVehicles},
		{GET, "/api/v1/vehicles/:id", Perm(perm.VehiclesView), s.apiVehicle},
		// Writes of the API (handlers/api_fleet.go, api_members.go,
		// api_admin.go): the needs of the console's routes for the same
		// change; creates take an Idempotency-Key (s.idempotent), updates
		// If-Match (handlers/api_write.go).
		{POST, "/api/v1/vehicles", Perm(perm.VehiclesCreate), s.idempotent(s.apiVehicleCreate)},
		{PUT, "/api/v1/vehicles/:id", Perm(perm.VehiclesEdit), s.apiVehicleUpdate},
		{DELETE, "/api/v1/vehicles/:id", Perm(perm.VehiclesArchive), s.apiVehicleArchive},
		{POST, "/api/v1/vehicles/:id/restore", Perm(perm.VehiclesArchive), s.apiVehicleRestore},
		{GET, "/api/v1/groups", Perm(perm.VehiclesView), s.apiGroups},
		{POST, "/api/v1/groups", Perm(perm.VehiclesEdit), s.idempotent(s.apiGroupCreate)},
		{GET, "/api/v1/groups/:id", Perm(perm.VehiclesView), s.apiGroup},
		{PUT, "/api/v1/groups/:id", Perm(perm.VehiclesEdit), s.apiGroupUpdate},
		{DELETE, "/api/v1/groups/:id", Perm(perm.VehiclesEdit), s.apiGroupDelete},
		{GET, "/api/v1/clients", Perm(perm.ClientsView), s.apiClients},
		{POST, "/api/v1/clients", Perm(perm.ClientsManage), s.idempotent(s.apiClientCreate)},
		{GET, "/api/v1/clients/:id", Perm(perm.ClientsView), s.apiClient},
		{PUT, "/api/v1/clients/:id", Perm(perm.ClientsManage), s.apiClientUpdate},
		{DELETE, "/api/v1/clients/:id", Perm(perm.ClientsManage), s.apiClientDelete},
		{GET, "/api/v1/pairings", Perm(perm.PairingManage), s.apiPairings},
		{POST, "/api/v1/pairings", Perm(perm.PairingManage), s.idempotent(s.apiPairingCreate)},
		{DELETE, "/api/v1/pairings/:id/:client", Perm(perm.PairingManage), s.apiPairingDelete},
		{POST, "/api/v1/users", Perm(perm.UsersManage), s.idempotentKeeping(s.apiInvite, withoutLink)},
		{GET, "/api/v1/users/:id", Perm(perm.UsersView), s.apiMember},
		{PUT, "/api/v1/users/:id", Perm(perm.UsersManage), s.apiMemberUpdate},
		{DELETE, "/api/v1/users/:id", Perm(perm.UsersDelete), s.apiMemberDelete},
		{POST, "/api/v1/users/:id/deactivate", Perm(perm.UsersManage), s.apiDeactivate},
		{POST, "/api/v1/users/:id/reactivate", Perm(perm.UsersManage), s.apiReactivate},
		{GET, "/api/v1/users/:id/access", Perm(perm.UsersView), s.apiAccess},
		{PUT, "/api/v1/users/:id/access/mode", Perm(perm.UsersManage), s.apiAccessMode},
		{POST, "/api/v1/users/:id/grants", Perm(perm.UsersManage), s.idempotent(s.apiGrantCreate)},
		{DELETE, "/api/v1/users/:id/grants/:kind/:target", Perm(perm.UsersManage), s.apiGrantDelete},
		{GET, "/api/v1/roles", Perm(perm.RolesView), s.apiRoles},
		{POST, "/api/v1/roles", Perm(perm.RolesManage), s.idempotent(s.apiRoleCreate)},
		{GET, "/api/v1/roles/:id", Perm(perm.RolesView), s.apiRole},
		{PUT, "/api/v1/roles/:id", Perm(perm.RolesManage), s.apiRoleSave},
		{GET, "/api/v1/audit", Perm(perm.AuditView), s.apiAudit},
		{GET, "/api/v1/subscription", Perm(perm.BillingView), s.apiSubscription},
		{PUT, "/api/v1/subscription", Perm(perm.BillingManage), s.apiSubscriptionSave},

		// Invitations and adding people (handlers/invitations.go, add_member.go).
		{GET, "/users/invite", Perm(perm.UsersManage), s.invitePage},
		{POST, "/users/invite", Perm(perm.UsersManage), s.inviteCreate},
		{POST, "/users/invitations/:id/link", Perm(perm.UsersManage), s.invitationLink},
		{POST, "/users/invitations/:id/resend", Perm(perm.UsersManage), s.invitationResend},
		{POST, "/users/invitations/:id/revoke", Perm(perm.UsersManage), s.invitationRevoke},
		{GET, "/users/add", Perm(perm.UsersManage), s.addMemberPage},
		{POST, "/users/add", Perm(perm.UsersManage), s.addMember},
		// The invitation link: anyone holding it, logged in or not.
		{GET, "/invite/:token", Public, s.acceptPage},
		{POST, "/invite/:token", Public, s.accept},
		// My profile (handlers/profile.go): one's own login only.
		{GET, "/profile", SignedIn, s.profilePage},
		{POST, "/profile", SignedIn, s.profileSave},
		{POST, "/profile/password", SignedIn, s.profilePassword},
		{POST, "/profile/sessions/end", SignedIn, s.profileEndSession},
		{POST, "/profile/sessions/end-all", SignedIn, s.profileEndAll},
		{GET, "/profile/two-factor", SignedIn, s.twoFactorPage},
		{POST, "/profile/two-factor/setup", SignedIn, s.twoFactorSetup},
		{POST, "/profile/two-factor/confirm", SignedIn, s.twoFactorConfirm},
		{POST, "/profile/two-factor/remove", SignedIn, s.twoFactorRemove},
		{POST, "/profile/tokens", SignedIn, s.profileTokenCreate},
		{POST, "/profile/tokens/:id/revoke", SignedIn, s.profileTokenRevoke},
		// E-mail notifications (handlers/notify.go): one's own choices; a
		// Notifications-only member's choices and watches by users.manage
		// within reach (db/notify.go, db/watch.go); the Watch button of a
		// vehicle one sees; the one-click unsubscribe link of every e-mail,
		// whose signed token is its authentication.
		{POST, "/profile/notifications", SignedIn, s.profileNotifications},
		{POST, "/users/:id/notifications", Perm(perm.UsersManage), s.memberNotifications},
		{POST, "/users/:id/watch", Perm(perm.UsersManage), s.memberWatch},
		{POST, "/vehicles/:id/watch", Perm(perm.VehiclesView), s.vehicleWatch},
		{GET, "/unsubscribe/:token", Public, s.unsubscribePage},
		{POST, "/unsubscribe/:token", Public, s.unsubscribe},
		// The account setting "require two-factor sign-in" for chosen roles.
		{GET, "/settings/two-factor", Perm(perm.AccountSettings), s.twoFactorSettingsPage},
		{POST, "/settings/two-factor", Perm(perm.AccountSettings), s.twoFactorSettingsSave},
		// Audit log (handlers/audit_log.go).
		{GET, "/audit", Perm(perm.AuditView), s.auditLog},
		// The former address of the audit export: same answer as /exports/audit.csv.
		{GET, "/audit/export.csv", BothPerms(perm.ReportsExport, perm.AuditView), s.exportAudit},

		// Exports (handlers/exports.go): CSV of exactly what the member
		// sees, streamed; the audit log also needs audit.view; the whole
		// account as a zip needs account.export_all.
		{GET, "/exports", Perm(perm.ReportsExport), s.exportsPage},
		{GET, "/exports/trips.csv", BothPerms(perm.ReportsExport, perm.TripsView), s.exportTrips},
		{GET, "/exports/vehicles.csv", BothPerms(perm.ReportsExport, perm.VehiclesView), s.exportVehicles},
		{GET, "/exports/clients.csv", BothPerms(perm.ReportsExport, perm.ClientsView), s.exportClients},
		{GET, "/exports/audit.csv", BothPerms(perm.ReportsExport, perm.AuditView), s.exportAudit},
		{GET, "/exports/account.zip", Perm(perm.AccountExport), s.exportAccount},
		// Sent e-mails, the outbox (handlers/outbox.go): the account's own.
		{GET, "/outbox", Perm(perm.AuditView), s.outbox},
		{POST, "/outbox/:id/retry", BothPerms(perm.AuditView, perm.UsersManage), s.outboxRetry}, // a write: not for read-only roles

		// Roles and the permission matrix (handlers/roles.go): roles.view
		// to look, roles.manage to change; which roles and permissions a
		// member may change is decided in db/roles.go.
		{GET, "/roles", Perm(perm.RolesView), s.rolesIndex},
		{POST, "/roles", Perm(perm.RolesManage), s.roleCreate},
		{GET, "/roles/compare", Perm(perm.RolesView), s.roleCompare},
		{GET, "/roles/:id", Perm(perm.RolesView), s.roleShow},
		{POST, "/roles/:id", Perm(perm.RolesManage), s.roleSave},
		{POST, "/roles/:id/impact", Perm(perm.RolesManage), s.roleImpact},
		{POST, "/roles/:id/rename", Perm(perm.RolesManage), s.roleRename},
		{POST, "/roles/:id/delete", Perm(perm.RolesManage), s.roleDelete},
		{GET, "/roles/:id/history", Perm(perm.RolesView), s.roleHistory},
		{GET, "/roles/:id/history/:v", Perm(perm.RolesView), s.roleVersion},
		{POST, "/roles/:id/history/:v/restore", Perm(perm.RolesManage), s.roleRestore},

		// Vehicles, groups, clients, pairing, members' vehicle access and
		// the subscription (feature: vehicles). Row scope (account, vehicle
		// access: the client-usability rule) is in the db queries these handlers call.
		{GET, "/vehicles", Perm(perm.VehiclesView), s.vehiclesList},
		{GET, "/vehicles/new", Perm(perm.VehiclesCreate), s.vehicleNew},
		{POST, "/vehicles", Perm(perm.VehiclesCreate), s.vehicleCreate},
		{GET, "/vehicles/:id", Perm(perm.VehiclesView), s.vehicleShow},
		{GET, "/vehicles/:id/edit", Perm(perm.VehiclesEdit), s.vehicleEdit},
		{POST, "/vehicles/:id", Perm(perm.VehiclesEdit), s.vehicleUpdate},
		{POST, "/vehicles/:id/archive", Perm(perm.VehiclesArchive), s.vehicleArchive},
		{POST, "/vehicles/:id/restore", Perm(perm.VehiclesArchive), s.vehicleRestore},
		{GET, "/vehicles/:id/clients", Perm(perm.PairingManage), s.vehicleClients},
		{GET, "/vehicles/:id/members", Perm(perm.UsersView), s.vehicleMembers},
		{GET, "/groups", Perm(perm.VehiclesView), s.groupsList},
		{POST, "/groups", Perm(perm.VehiclesEdit), s.groupCreate},
		{POST, "/groups/:id", Perm(perm.VehiclesEdit), s.groupUpdate},
		{POST, "/groups/:id/delete", Perm(perm.VehiclesEdit), s.groupDelete},
		{GET, "/clients", Perm(perm.ClientsView), s.clientsList},
		{GET, "/clients/new", Perm(perm.ClientsManage), s.clientNew},
		{POST, "/clients", Perm(perm.ClientsManage), s.clientCreate},
		{GET, "/clients/:id", Perm(perm.ClientsView), s.clientShow},
		{GET, "/clients/:id/edit", Perm(perm.ClientsManage), s.clientEdit},
		{POST, "/clients/:id", Perm(perm.ClientsManage), s.clientUpdate},
		{POST, "/clients/:id/delete", Perm(perm.ClientsManage), s.clientDelete},
		{GET, "/clients/:id/vehicles", Perm(perm.PairingManage), s.clientVehicles},
		{GET, "/pairing", Perm(perm.PairingManage), s.pairingPage},
		{POST, "/pairing/toggle", Perm(perm.PairingManage), s.pairingToggle},
		{GET, "/users/:id/access", Perm(perm.UsersView), s.accessPage},
		{POST, "/users/:id/access/mode", Perm(perm.UsersManage), s.accessMode},
		{POST, "/users/:id/access/grant", Perm(perm.UsersManage), s.accessGrant},
		{POST, "/users/:id/access/revoke", Perm(perm.UsersManage), s.accessRevoke},
		{GET, "/subscription", Perm(perm.BillingView), s.subscriptionPage},

		// Trips (handlers/trips.go, api_trips.go). trips.view reads, within
		// the scopes "own trips only" and "history limited to N days";
		// changing a trip needs trips.record (one's own trips) or trips.edit
		// (anyone's), decided per trip in db/trips.go with manage access
		// to the vehicle and the month not finalized.
		{GET, "/trips", Perm(perm.TripsView), s.tripsList},
		{GET, "/vehicles/:id/trips", Perm(perm.TripsView), s.vehicleTrips},
		{GET, "/vehicles/:id/trips/new", Perm(perm.TripsRecord), s.tripNew},
		{POST, "/vehicles/:id/trips", Perm(perm.TripsRecord), s.tripCreate},
		{GET, "/trips/:id/edit", EitherPerm(perm.TripsRecord, perm.TripsEdit), s.tripEdit},
		{POST, "/trips/:id", EitherPerm(perm.TripsRecord, perm.TripsEdit), s.tripUpdate},
		{POST, "/trips/:id/delete", EitherPerm(perm.TripsRecord, perm.TripsEdit), s.tripDelete},
		{POST, "/vehicles/:id/trips/finalize", Perm(perm.TripsFinalize), s.monthFinalize},
		{POST, "/vehicles/:id/trips/reopen", Perm(perm.TripsFinalize), s.monthReopen},
		{GET, "/vehicles/:id/recurring", Perm(perm.TripsRecurring), s.recurringPage},
		{POST, "/vehicles/:id/recurring", Perm(perm.TripsRecurring), s.recurringCreate},
		{GET, "/recurring/:id/fill", Perm(perm.TripsRecurring), s.recurringPreview},
		{POST, "/recurring/:id/fill", Perm(perm.TripsRecurring), s.recurringFill},
		{POST, "/recurring/:id/delete", Perm(perm.TripsRecurring), s.recurringDelete},
		{GET, "/api/v1/trips", Perm(perm.TripsView), s.apiTrips},
		{POST, "/api/v1/trips", Perm(perm.TripsRecord), s.apiTripCreate},
		{GET, "/api/v1/trips/:id", Perm(perm.TripsView), s.apiTrip},
		{PUT, "/api/v1/trips/:id", EitherPerm(perm.TripsRecord, perm.TripsEdit), s.apiTripUpdate},
		{DELETE, "/api/v1/trips/:id", EitherPerm(perm.TripsRecord, perm.TripsEdit), s.apiTripDelete},

		// Accounts from the first start (handlers/setup.go, recovery.go,
		// settings.go, subscription.go): the one-time setup page, password
		// recovery by e-mail, account settings and the subscription.
		{GET, "/setup", Public, s.setupPage},
		{POST, "/setup", Public, s.setup},
		{GET, "/forgot", Public, s.forgotPage},
		{POST, "/forgot", Public, s.forgot},
		{GET, "/reset/:token", Public, s.resetPage},
		{POST, "/reset/:token", Public, s.reset},
		{POST, "/users/:id/password-reset", Perm(perm.UsersManage), s.memberReset},
		{GET, "/settings", Perm(perm.AccountSettings), s.settingsPage},
		{POST, "/settings", Perm(perm.AccountSettings), s.settingsSave},
		{POST, "/subscription", Perm(perm.BillingManage), s.subscriptionSave},
		{POST, "/subscription/accounts", Perm(perm.BillingManage), s.subscriptionAddAccount},

		// Access review (handlers/access_review.go): who holds what needs
		// users.manage, what they did with it audit.view; the overview and
		// reviews need both (the Owner holds every permission). Each fix
		// is the ordinary write, with its reach checked in db.
		{GET, "/access-review", BothPerms(perm.UsersManage, perm.AuditView), s.accessReview},
		{POST, "/access-review/fix", BothPerms(perm.UsersManage, perm.AuditView), s.accessReviewFix},
		{POST, "/access-review/settings", Perm(perm.AccountSettings), s.accessReviewSettings},
		{GET, "/access-review/reviews", BothPerms(perm.UsersManage, perm.AuditView), s.reviewsList},
		{POST, "/access-review/reviews", BothPerms(perm.UsersManage, perm.AuditView), s.reviewStart},
		{GET, "/access-review/reviews/:id", BothPerms(perm.UsersManage, perm.AuditView), s.reviewShow},
		{POST, "/access-review/reviews/:id/decide", BothPerms(perm.UsersManage, perm.AuditView), s.reviewDecide},
		{POST, "/access-review/reviews/:id/finish", BothPerms(perm.UsersManage, perm.AuditView), s.reviewFinish},
		{GET, "/access-review/reviews/:id/export.csv", BothPerms(perm.UsersManage, perm.AuditView), s.reviewCSV},
	}
}
