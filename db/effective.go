package db

import "fleetgate/db/perm"

// What a grant's level lets a member do depends on their role too: a
// "manage" grant changes nothing for a role that can neither edit,
// archive or pair vehicles nor record or edit trips. EffectiveLevel is
// the level the grant and the role allow together, as shown to people.
func (a *Actor) EffectiveLevel(l Level) Level {
	if l == Manage && !RoleUsesManage(a.Perms) {
		return View
	}
	return l
}

// RoleUsesManage reports whether a role's permissions include any that a
// manage grant is needed for.
func RoleUsesManage(s perm.Set) bool {
	for _, k := range []perm.Key{perm.VehiclesEdit, perm.VehiclesArchive, perm.PairingManage, perm.TripsRecord, perm.TripsEdit} {
		if s.Has(k) {
			return true
		}
	}
	return false
}
