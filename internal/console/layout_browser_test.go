package console_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"roster.dev/roster/internal/account"
	"roster.dev/roster/internal/sqlstore"
	"roster.dev/roster/internal/storetest"
)

// box is an element's bounding box in the viewport, as the browser lays it out.
type box struct {
	Left, Top, Right, Bottom, Width, Height float64
	Found                                   bool
}

func (b *tab) box(sel string) box {
	b.t.Helper()
	var r box
	b.run(chromedp.Evaluate(fmt.Sprintf(`(() => { const e = document.querySelector(%q); if (!e) return {Found: false};
		const r = e.getBoundingClientRect(); return {Left: r.left, Top: r.top, Right: r.right, Bottom: r.bottom,
		Width: r.width, Height: r.height, Found: true}; })()`, sel), &r))
	if !r.Found {
		b.t.Fatalf("no element %s", sel)
	}
	return r
}

func (b *tab) scrollY() float64 {
	b.t.Helper()
	var y float64
	b.run(chromedp.Evaluate(`window.scrollY`, &y))
	return y
}

func (b *tab) viewport(w, h int64) {
	b.t.Helper()
	b.width = int(w)
	b.run(chromedp.EmulateViewport(w, h))
}

// TestUserPanelLayout: with a member's panel open, the list and the panel are both
// whole from 1024 px up (the panel covers no column), and on a phone the panel is
// a full-screen sheet that opens in view, however far down the list the name was.
func TestUserPanelLayout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		s := newStack(t, db)
		w := seedAcme(t, s)
		ctx := context.Background()
		no := false
		for i := range 60 {
			must[account.Member](t)(s.svc.AddMember(ctx, w.adaActor, "acme", account.AddMemberInput{
				Email: fmt.Sprintf("person%02d@acme.test", i), FirstName: "Person", LastName: fmt.Sprintf("Number %02d", i),
				Phone: "+44 20 7946 0" + fmt.Sprintf("%03d", i), SendInvite: &no, Password: pass}))
		}
		b := s.browser("")
		b.login("ada@acme.test", pass)
		for _, size := range [][2]int64{{1280, 800}, {1024, 768}, {1440, 900}} {
			b.viewport(size[0], size[1])
			b.open("/o/acme/users/" + w.ada.AccountID)
			panel := b.box("#panel")
			table := b.box("table.list")
			for _, col := range []string{"th.col-status", "th.col-seats", "table.list thead th:first-child"} {
				c := b.box(col)
				if c.Width < 20 || c.Right > panel.Left || c.Left < 0 {
					t.Errorf("%dx%d: column %s spans %.0f–%.0f, the panel starts at %.0f", size[0], size[1], col, c.Left, c.Right, panel.Left)
				}
			}
			if table.Right > panel.Left {
				t.Errorf("%dx%d: the list (right edge %.0f) runs under the panel (left edge %.0f)", size[0], size[1], table.Right, panel.Left)
			}
			if panel.Right > float64(size[0]) || panel.Width < 280 {
				t.Errorf("%dx%d: the panel spans %.0f–%.0f, beyond the window or too narrow", size[0], size[1], panel.Left, panel.Right)
			}
		}

		// The phone: open a member far down the list, from the list scrolled to them.
		b.viewport(390, 844)
		b.open("/o/acme/users")
		far := "table.list tbody tr:last-child td.name a"
		b.run(chromedp.ScrollIntoView(far, chromedp.ByQuery))
		if y := b.box(far).Top; y < 2000 && b.scrollY() < 2000 {
			t.Fatalf("the list's last row is not far down the phone's page (scrolled %.0f)", b.scrollY())
		}
		b.click(far)
		b.see("#panel-title", "Close")
		panel := b.box("#panel")
		if panel.Top > 1 || panel.Left > 1 || panel.Width < 389 || panel.Height < 843 {
			t.Errorf("390x844: the panel spans (%.0f, %.0f) %.0f×%.0f, want the whole screen", panel.Left, panel.Top, panel.Width, panel.Height)
		}
		closeLink := b.box("#panel .close")
		if closeLink.Top < 0 || closeLink.Bottom > 844 {
			t.Errorf("390x844: the panel's Close is out of view at %.0f–%.0f", closeLink.Top, closeLink.Bottom)
		}
		b.click("#panel .close")
		b.run(chromedp.WaitNotPresent("#panel", chromedp.ByQuery))
	})
}
