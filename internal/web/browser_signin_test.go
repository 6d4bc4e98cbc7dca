package web

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// colorScheme makes the tab prefer a light or dark colour scheme.
func colorScheme(t *testing.T, ctx context.Context, scheme string) {
	t.Helper()
	do(t, ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
		return err
	}))
}

// TestBrowserSignIn signs in through the sign-in page, uses the user menu
// with the keyboard, looks at Settings, signs out and in again as the
// administrator; then looks at the pages in dark mode and on a phone. The
// tab has a browser context of its own, so its sign-in cookie stays apart.
func TestBrowserSignIn(t *testing.T) {
	ctx := tab(t, chromedp.WithNewBrowserContext())
	s := signedEnv(t)
	openSigned := func(path string) {
		t.Helper()
		do(t, ctx, chromedp.Navigate(s.srv.URL+path), chromedp.WaitReady(chromedp.CSS("main")))
	}
	const entityPage = "/catalog/default/component/shipment-service"

	// A page asked for before signing in leads to the sign-in page, which
	// comes back to it.
	openSigned(entityPage)
	if loc := location(t, ctx); loc != "/signin?redirect=%2Fcatalog%2Fdefault%2Fcomponent%2Fshipment-service" {
		t.Fatalf("before sign-in, the entity page leads to %s", loc)
	}
	if eval[bool](t, ctx, `!!document.querySelector(".sidebar, .site-search, .user-menu")`) {
		t.Error("the sign-in page has the sidebar, the search box or a user menu")
	}
	buttons := eval[[]string](t, ctx, `Array.from(document.querySelectorAll(".signin-button")).map(a => a.textContent.trim())`)
	if strings.Join(buttons, "|") != "Sign in with Guest|Sign in with OpenID Connect" {
		t.Errorf("sign-in buttons: %q", buttons)
	}
	shot(t, ctx, "signin")
	do(t, ctx, chromedp.Click(chromedp.CSS(`a.signin-button[href^="/api/auth/guest/"]`)))
	waitFor(t, ctx, `location.pathname === "`+entityPage+`" && !!document.querySelector(".user-menu")`)

	// Signed in as a member of the owning team: Refresh, but no Unregister
	// and no Register.
	if got := text(t, ctx, ".user-menu .user-name"); got != jonas {
		t.Errorf("the user menu says %q", got)
	}
	if !eval[bool](t, ctx, `!!document.querySelector(".about-links button[type=submit]")`) {
		t.Error("the owner has no Refresh button")
	}
	if eval[bool](t, ctx, `!!document.querySelector('.about-links a[href$="/unregister"], .sidebar a[href="/catalog-import"]')`) {
		t.Error("a user who may not unregister or register sees the links")
	}
	shot(t, ctx, "signed-in-entity")

	// The menu, by keyboard: Enter opens it, Escape closes it and returns
	// focus, Tab reaches its links.
	do(t, ctx, chromedp.Focus(chromedp.CSS(".user-menu summary")), chromedp.KeyEvent(kb.Enter))
	waitFor(t, ctx, `document.querySelector(".user-menu").open`)
	if !eval[bool](t, ctx, `(() => { const r = document.querySelector(".user-menu-panel").getBoundingClientRect(); return r.left >= 0 && r.right <= innerWidth && r.height > 0; })()`) {
		t.Error("the open menu is not within the window")
	}
	shot(t, ctx, "user-menu")
	do(t, ctx, chromedp.KeyEvent(kb.Escape))
	waitFor(t, ctx, `!document.querySelector(".user-menu").open && document.activeElement.matches(".user-menu summary")`)
	do(t, ctx, chromedp.KeyEvent(kb.Enter), chromedp.KeyEvent(kb.Tab))
	if got := eval[string](t, ctx, `document.activeElement.textContent.trim()`); got != "Settings" {
		t.Fatalf("Tab in the open menu focuses %q", got)
	}
	do(t, ctx, chromedp.KeyEvent(kb.Enter))
	waitFor(t, ctx, `location.pathname === "/settings"`)
	if got := text(t, ctx, "h1"); got != "Jonas Weber" {
		t.Errorf("Settings heading %q", got)
	}
	if got := text(t, ctx, `.sidebar a[aria-current="page"]`); got != "Settings" {
		t.Errorf("the sidebar marks %q", got)
	}
	if eval[bool](t, ctx, `!!document.getElementById("policy")`) {
		t.Error("a user who is not an administrator sees the policy")
	}
	shot(t, ctx, "settings")

	// A click elsewhere closes the menu.
	do(t, ctx, chromedp.Click(chromedp.CSS(".user-menu summary")))
	waitFor(t, ctx, `document.querySelector(".user-menu").open`)
	do(t, ctx, chromedp.Click(chromedp.CSS("h1")))
	waitFor(t, ctx, `!document.querySelector(".user-menu").open`)

	// Signing out, signing in as the administrator, and looking around;
	// in light and dark, wide and on a phone.
	tour := func(t *testing.T, suffix string, width int) {
		narrow := func(page string) {
			t.Helper()
			if w := eval[int](t, ctx, `document.documentElement.scrollWidth`); width > 0 && w > width {
				t.Errorf("%s is %dpx wide on a %dpx screen", page, w, width)
			}
		}
		openSigned("/settings")
		do(t, ctx, chromedp.Click(chromedp.CSS(".user-menu summary")))
		waitFor(t, ctx, `document.querySelector(".user-menu").open`)
		do(t, ctx, chromedp.Click(chromedp.CSS(".user-menu button.menu-button")))
		waitFor(t, ctx, `location.pathname === "/signin" && location.search === "?signedOut=1"`)
		if got := text(t, ctx, ".alert-ok"); !strings.Contains(got, "You have signed out") {
			t.Errorf("after signing out: %q", got)
		}
		narrow("the signed-out page")
		shot(t, ctx, "signed-out"+suffix)

		openSigned("/signin?error=unknown_user")
		if got := text(t, ctx, `[role="alert"]`); !strings.Contains(got, "no user in the catalog matches your account") {
			t.Errorf("the unknown-user message: %q", got)
		}
		narrow("the sign-in error")
		shot(t, ctx, "signin-error"+suffix)

		openSigned("/settings")
		waitFor(t, ctx, `location.pathname === "/signin"`)
		do(t, ctx, chromedp.Click(chromedp.CSS(`a.signin-button[href^="/api/auth/oidc/"]`)))
		waitFor(t, ctx, `location.pathname === "/settings" && !!document.getElementById("policy")`)
		if n := eval[int](t, ctx, `document.querySelectorAll("#policy .tok-key").length`); n == 0 {
			t.Error("the policy is not highlighted")
		}
		narrow("Settings")
		shot(t, ctx, "settings-admin"+suffix)

		openSigned(entityPage)
		if !eval[bool](t, ctx, `!!document.querySelector('.about-links a[href$="/unregister"]') && !!document.querySelector('.sidebar a[href="/catalog-import"]')`) {
			t.Error("the administrator does not see Unregister and Register")
		}
		do(t, ctx, chromedp.Click(chromedp.CSS(".user-menu summary")))
		waitFor(t, ctx, `document.querySelector(".user-menu").open`)
		if !eval[bool](t, ctx, `(() => { const r = document.querySelector(".user-menu-panel").getBoundingClientRect(); return r.left >= 0 && r.right <= innerWidth; })()`) {
			t.Error("the open menu is not within the window")
		}
		narrow("the entity page")
		shot(t, ctx, "user-menu-admin"+suffix)
	}
	t.Run("light", func(t *testing.T) { tour(t, "", 0) })
	t.Run("dark", func(t *testing.T) {
		colorScheme(t, ctx, "dark")
		tour(t, "-dark", 0)
	})
	t.Run("phone", func(t *testing.T) {
		do(t, ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
		tour(t, "-phone-dark", 390)
		colorScheme(t, ctx, "light")
		tour(t, "-phone", 390)
	})

	// Without JavaScript the menu still opens, and signs out.
	t.Run("without JavaScript", func(t *testing.T) {
		do(t, ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
			return err
		}))
		openSigned("/")
		do(t, ctx, chromedp.Click(chromedp.CSS(".user-menu summary")))
		do(t, ctx, chromedp.WaitVisible(chromedp.CSS(".user-menu button.menu-button")))
		do(t, ctx, chromedp.Click(chromedp.CSS(".user-menu button.menu-button")))
		waitFor(t, ctx, `location.pathname === "/signin" && location.search === "?signedOut=1"`)
	})
}
