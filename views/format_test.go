package views

import (
	"context"
	"testing"
	"time"
)

func TestFormatsFollowTheAccountsLocale(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 3, 6, 23, 30, 0, 0, time.UTC)
	if got := FormatTime(ctx, at); got != "2026-03-06 23:30 UTC" {
		t.Fatalf("default: %q", got)
	}
	if got := Distance(ctx, 12.34); got != "12.3 km" {
		t.Fatalf("km: %q", got)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	ctx = WithLocale(ctx, berlin, "mi")
	if got := FormatTime(ctx, at); got != "2026-03-07 00:30 CET" {
		t.Fatalf("Berlin: %q", got)
	}
	if got := FormatDay(ctx, at); got != "2026-03-07" {
		t.Fatalf("day: %q", got)
	}
	if got := Distance(ctx, 16.09344); got != "10 mi" {
		t.Fatalf("mi: %q", got)
	}
	end := time.Date(2026, 3, 6, 23, 0, 0, 0, time.UTC) // midnight of the 7th in Berlin
	if got := LastDay(ctx, &end); got != "2026-03-06" {
		t.Fatalf("last day: %q", got)
	}
	if LastDay(ctx, nil) != "" || when(ctx, nil) != "never" {
		t.Fatal("no time")
	}
}
