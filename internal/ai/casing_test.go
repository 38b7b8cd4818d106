package ai

import "testing"

func TestTitleName(t *testing.T) {
	cases := []struct {
		name     string
		keywords []string
		want     string
	}{
		{"Roth Ira", nil, "Roth IRA"},
		{"ev charging at home", nil, "EV Charging at Home"},
		{"Wordpress Hosting", nil, "WordPress Hosting"},
		{"Clickup vs Notion", nil, "ClickUp vs Notion"},
		{"1password Review", nil, "1Password Review"},
		{"3d Printer", nil, "3D Printer"},
		{"sony xm5 vs bose", nil, "Sony XM5 vs Bose"},
		{"olympus om-1", nil, "Olympus OM-1"},
		{"home evs", nil, "Home EVs"},
		{"trail running shoes for beginners", nil, "Trail Running Shoes for Beginners"},
		{"step-by-step guide", nil, "Step-by-step Guide"},
		{"the best of the rest", nil, "The Best of the Rest"},
		{"Acme Crm Tools", []string{"AcmeCRM tools", "acme CRM tools"}, "Acme CRM Tools"},
		{"Zapier (Zaps)", []string{"ZAPS"}, "Zapier (ZAPS)"},
		{"8x42 binoculars", nil, "8x42 Binoculars"},
		{"us trips", nil, "Us Trips"}, // "us" is a word: not in the list
		{"iPhone cases", nil, "iPhone Cases"},
	}
	for _, c := range cases {
		if got := TitleName(c.name, c.keywords); got != c.want {
			t.Errorf("TitleName(%q, %q) = %q, want %q", c.name, c.keywords, got, c.want)
		}
	}
}

func TestFixCasing(t *testing.T) {
	cases := map[string]string{
		"Laufschuhe für Damen":  "Laufschuhe für Damen",
		"Bornes de recharge ev": "Bornes de recharge EV",
		"wordpress hosting":     "WordPress hosting",
		"Trail running shoes":   "Trail running shoes",
	}
	for in, want := range cases {
		if got := FixCasing(in, nil); got != want {
			t.Errorf("FixCasing(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUniqueName(t *testing.T) {
	taken := map[string]bool{NameKey("Trail Running Shoes"): true, NameKey("Beginners"): true,
		NameKey("Guitar Beginners"): true, NameKey("EV Chargers"): true}
	cases := []struct {
		name     string
		keywords []string
		want     string
	}{
		{"Coffee Grinders", []string{"coffee grinder"}, "Coffee Grinders"},
		{"trail running shoes", []string{"best waterproof trail running shoes", "waterproof trail shoes review",
			"hoka trail running shoes"}, "Waterproof Trail Running Shoes"},
		// The first head term makes a taken name: the next one.
		{"Beginners", []string{"guitar chords for beginners", "guitar for beginners", "chess for beginners",
			"chess openings for beginners", "guitar tabs"},
			"Chess Beginners"},
		// Nothing but modifiers and the name's own words: numbered.
		{"Beginners", []string{"best for beginners", "beginners"}, "Beginners 2"},
		{"Ev Chargers", []string{"home ev charger", "best ev charger"}, "Home EV Chargers"},
	}
	for _, c := range cases {
		if got := UniqueName(c.name, c.keywords, taken); got != c.want {
			t.Errorf("UniqueName(%q) = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestTrimDangling(t *testing.T) {
	cases := map[string]string{
		"Camping Checklist Review: Pros, Cons and":                    "Camping Checklist Review: Pros, Cons",
		"How to Make Sourdough Starter from Scratch, Even If You Are": "How to Make Sourdough Starter from Scratch",
		"A Practical Guide for":                                       "A Practical Guide",
		"Trail Running Shoes":                                         "Trail Running Shoes",
		"Guide to":                                                    "Guide to", // never fewer than two words
	}
	for in, want := range cases {
		if got := TrimDangling(in); got != want {
			t.Errorf("TrimDangling(%q) = %q, want %q", in, got, want)
		}
	}
}
