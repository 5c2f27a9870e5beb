package console_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// TestRowMenu walks a row's "…" menu in Chromium: it opens from the keyboard and
// closes on Escape with focus back on it, opens with a click, and its Remove asks
// for the confirmation before anyone is removed; a seat toggle assigns in one
// click and shows pressed.
func TestRowMenu(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		s := newStack(t, db)
		w := seedAcme(t, s)
		b := s.browser("")
		ctx := context.Background()
		b.login("ada@acme.test", pass)
		row := "#row-" + w.cat.AccountID
		summary := row + " details.rowmenu summary"

		// The keyboard: Enter opens the menu, Escape closes it and focus stays on it.
		b.run(chromedp.WaitVisible(summary, chromedp.ByQuery), settled(), chromedp.Focus(summary, chromedp.ByQuery), chromedp.KeyEvent(kb.Enter))
		b.run(chromedp.WaitVisible(row+" details.rowmenu[open] .pop", chromedp.ByQuery))
		b.see(row+" details.rowmenu .pop", "Deactivate")
		// axe-core over the page with the menu open (skipped without axe-core, as
		// TestAccessibility is).
		t.Run("axe", func(t *testing.T) {
			src := axeSource(t)
			parent := b.t
			b.t = t
			defer func() { b.t = parent }()
			for _, v := range b.axe(src) {
				t.Errorf("the open row menu: %s (%s): %s\n\t%s", v.ID, v.Impact, v.Help, strings.Join(v.Targets, "\n\t"))
			}
		})
		b.run(chromedp.KeyEvent(kb.Escape), chromedp.WaitNotPresent(row+" details.rowmenu[open]", chromedp.ByQuery))
		var focused string
		b.run(chromedp.Evaluate(`document.activeElement.getAttribute("aria-label")`, &focused))
		if focused != "Actions for Cat Cole" {
			t.Fatalf("after Escape the focus is on %q, want the menu's button", focused)
		}

		// On a phone the open menu is in view, whole.
		b.viewport(390, 844)
		b.open("/o/acme/users")
		b.click(summary)
		b.run(chromedp.WaitVisible(row+" details.rowmenu[open] .pop", chromedp.ByQuery))
		if pop := b.box(row + " details.rowmenu .pop"); pop.Left < 0 || pop.Right > 390 || pop.Width < 100 {
			t.Errorf("390 px: the open menu spans %.0f–%.0f, out of the screen", pop.Left, pop.Right)
		}
		b.viewport(1280, 800)
		b.open("/o/acme/users")

		// A click opens it; Remove asks first.
		b.click(summary)
		b.click(row + " details.rowmenu a.menuitem.danger")
		b.see("#confirm-title", "Remove Cat Cole from Acme Corp?")
		if _, err := s.svc.FindMember(ctx, s.op, "acme", w.cat.AccountID); err != nil {
			t.Fatalf("Cat is gone before the removal was confirmed: %v", err)
		}
		b.click("#panel .danger-zone button.danger")
		b.see(".flash", "Removed from Acme Corp")
		b.absent(row)
		if _, err := s.svc.FindMember(ctx, s.op, "acme", w.cat.AccountID); err == nil {
			t.Fatal("Cat is still a member after the confirmed removal")
		}

		// A seat toggle assigns in one click and comes back to the list.
		toggle := "#row-" + w.ada.AccountID + ` button.seat-toggle[aria-label="Studio seat for Ada Lovelace"]`
		if b.count(toggle+`[aria-pressed=false]`) != 1 {
			t.Fatal("Ada's Studio toggle is not offered unpressed")
		}
		b.click(toggle)
		b.see(".flash", "Seat assigned")
		b.run(chromedp.WaitVisible(toggle+`[aria-pressed=true]`, chromedp.ByQuery))
		if m, err := s.svc.FindMember(ctx, s.op, "acme", w.ada.AccountID); err != nil || len(m.Seats) != 1 {
			t.Fatalf("Ada's seats = %v, %v; want Studio", m.Seats, err)
		}
	})
}
