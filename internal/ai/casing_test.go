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
