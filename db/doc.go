// Package db is Fleetgate's storage: one SQLite file (or one PostgreSQL
// database shared by several instances: dialect.go), one writer at a time
// and a pool of readers, hand-written SQL, and every read of account data
// bound to the acting member's account (and vehicle scope) in its WHERE.
//
// # Rules of access
//
// These rules are the policy of the console and of the JSON API alike.
// The code cites them by name ("the no-escalation rule"); the README
// states them for people who run Fleetgate.
//
//   - Every request: a permission is checked on every request against the
//     database as it is at that moment. A change of role, access or status
//     applies to the person's very next request; deactivation ends their
//     sessions and API tokens at once (sessions.go, actor.go).
//   - Vehicle scope: a member sees a vehicle if they have all-vehicles
//     access, a direct grant on it, or a grant on its group or any group
//     above it. "manage" is needed to edit the vehicle (and its trips);
//     "view" only reads. Moving a vehicle or group changes who sees it at
//     once (scope.go; the table vehicle_access, kept by triggers in the
//     transaction of each change, holds the result of the rule, and a
//     grant's end is compared with the moment of each read).
//   - Derived scope: everything derived from vehicles (lists, totals,
//     reports, exports, search results, badge counts) follows the vehicle
//     scope, so two members may see different totals (scope.go; the
//     dashboard and reports in reports.go; the monthly roll-ups
//     trip_months, trip_vehicle_months and trip_client_months, kept by
//     triggers on trips in the transaction of each change, serve only the
//     dashboard of a member who sees every trip of the account). The CSV exports are exactly
//     the member's scope (exports.go); only the whole account's export,
//     which account.export_all grants by its nature, holds everything of
//     the account.
//   - Client usability: a vehicle without pairings may be used with any
//     client, a paired vehicle only with its paired clients. A member sees
//     the clients usable with at least one of their visible vehicles;
//     members with clients.manage see all (clients.go, pairing.go).
//   - No escalation: whoever manages users or roles gives only roles whose
//     permissions they hold, only vehicle access within their own, cannot
//     change their own role, access or status, and cannot touch the Owner
//     or a member whose role is wider than theirs (reach.go, grants.go).
//     A change that widens a member (a new role, a grant, a reactivation)
//     needs the member's vehicle access to lie within the changer's own
//     (checkAccessWithin in reach.go). The access review's one-click
//     fixes and a review's "revoke" are these same writes, with these
//     same checks (access_review.go, access_reviews.go).
//   - Refused by the server: a missing permission is refused by the
//     server (403, or 404 where confirming existence would leak), with a
//     message naming what is missing; hiding a control is never the check.
//     The route table states each route's need (handlers/routes.go).
//   - Account isolation: accounts never see each other's data; every
//     query is bound to the account in its WHERE, and an id of another
//     account answers "not found".
//   - Check in the write: a check that guards a write runs inside the
//     write's transaction, and a stale save of a versioned record is
//     refused, so no change slips in between the check and the write.
//   - Audit every change: every change of users, roles, access, pairing,
//     vehicles and settings writes an audit event (who, when, what,
//     before and after) in the same transaction (audit.go).
//   - E-mail follows access: a message goes only to members of the
//     account it is about, with their choice for its kind on; account news
//     also needs the permission to see what it is about (Notifications-only
//     members excepted: others set their choices); a vehicle's changes go
//     only to watchers who still see it, and a watcher who no longer does
//     loses the watch (notify.go, watch.go).
//
// E-mail is written with its change: a change that causes an e-mail writes it
// to the outbox in its own transaction (outbox.go); the account's e-mails
// are listed to its members with audit.view, never their bodies, and an
// e-mail about no account (a reset asked for on the login page) to no one.
package db
