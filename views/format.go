package views

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"
)

// Dates and distances are shown in the account's time zone and distance
// unit. The handlers put both into the request's context once (WithLocale);
// every view formats through the helpers below, so no page shows UTC or
// kilometres to an account that chose otherwise.

type localeKey struct{}

// Locale is how an account shows dates and distances.
type Locale struct {
	Zone *time.Location
	Unit string // "km" or "mi"
}

// WithLocale returns ctx carrying the account's time zone and distance unit.
func WithLocale(ctx context.Context, zone *time.Location, unit string) context.Context {
	return context.WithValue(ctx, localeKey{}, Locale{Zone: zone, Unit: unit})
}

// LocaleOf is the locale in ctx: UTC and kilometres when none was set.
func LocaleOf(ctx context.Context) Locale {
	l, _ := ctx.Value(localeKey{}).(Locale)
	if l.Zone == nil {
		l.Zone = time.UTC
	}
	if l.Unit != "mi" {
		l.Unit = "km"
	}
	return l
}

// zoneSuffix is appended to times: the zone's abbreviation, e.g. "CET".
func zoneSuffix(t time.Time) string {
	name, _ := t.Zone()
	return name
}

// FormatTime shows a moment in the account's time zone, with the zone's
// abbreviation: "2026-03-06 14:05 CET".
func FormatTime(ctx context.Context, t time.Time) string {
	lt := t.In(LocaleOf(ctx).Zone)
	return lt.Format("2006-01-02 15:04") + " " + zoneSuffix(lt)
}

// FormatDay shows the calendar day of a moment in the account's time zone.
func FormatDay(ctx context.Context, t time.Time) string {
	return t.In(LocaleOf(ctx).Zone).Format(time.DateOnly)
}

// LastDay is the last day on which something that stops at end applies
// (a grant's end is the first moment it no longer applies), in the
// account's time zone; "" when it has no end.
func LastDay(ctx context.Context, end *time.Time) string {
	if end == nil {
		return ""
	}
	return end.Add(-time.Second).In(LocaleOf(ctx).Zone).Format(time.DateOnly)
}

// when formats a time for tables; the zero time reads "never".
func when(ctx context.Context, t *time.Time) string {
	if t == nil || t.IsZero() {
		return "never"
	}
	return FormatTime(ctx, *t)
}

// KmPerMile converts distances for accounts that use miles.
const KmPerMile = 1.609344

// Distance shows a distance given in kilometres in the account's unit,
// with one decimal: "12.5 km" or "7.8 mi".
func Distance(ctx context.Context, km float64) string {
	v, unit := km, "km"
	if LocaleOf(ctx).Unit == "mi" {
		v, unit = km/KmPerMile, "mi"
	}
	v = math.Round(v*10) / 10
	s := strings.TrimSuffix(fmt.Sprintf("%.1f", v), ".0")
	return s + " " + unit
}

// DistanceUnit is the account's unit as a column heading shows it.
func DistanceUnit(ctx context.Context) string { return LocaleOf(ctx).Unit }
