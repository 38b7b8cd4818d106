package ai

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// knownCasings is the maintained list of spellings that title case must
// not change: acronyms, and brands and products spelled with inner
// capitals. Add to it when a name comes out wrong; a keyword the user
// typed with capitals ("HubSpot") needs no entry (TitleName keeps it).
// Words that are also plain English words ("us", "it", "app") are left
// out on purpose.
var knownCasings = []string{
	// Acronyms and initialisms.
	"AI", "ANC", "API", "APR", "APS-C", "BMI", "CMS", "CPA", "CRM", "CSS", "DIY", "DSLR", "EV", "EVs", "ETF",
	"FAQ", "FHA", "GDPR", "GPS", "GPU", "HDMI", "HIIT", "HOA", "HSA", "HTML", "HVAC", "IRA", "IRAs", "JR",
	"LED", "LLC", "NEMA", "OLED", "PC", "PDF", "PETG", "PLA", "PMI", "PPC", "ROI", "SEO", "SEP", "SSD", "SUV",
	"TDEE", "TV", "UK", "USA", "USB", "VPN", "W-2", "3D", "4K", "5G", "401k",
	// Brands and products.
	"1Password", "ActiveCampaign", "AirPods", "AirTag", "BigCommerce", "ChargePoint", "ChatGPT", "ClickUp",
	"ConvertKit", "DeWalt", "De'Longhi", "DoorDash", "eBay", "eBird", "FaceTime", "FreshBooks", "GitHub",
	"GoPro", "Gore-Tex", "HelloFresh", "HubSpot", "iMac", "iOS", "iPad", "iPhone", "iRobot", "JavaScript",
	"JuiceBox", "LastPass", "LatteGo", "LinkedIn", "MacBook", "macOS", "MailerLite", "MasterClass",
	"NordPass", "NordVPN", "OnePlus", "OpenAI", "PayPal", "PlayStation", "PostgreSQL", "QuickBooks",
	"QuietComfort", "RoboVac", "SmartDesk", "SoundCore", "TikTok", "TypeScript", "WhatsApp",
	"WooCommerce", "WordPress", "YouTube",
}

var casingByLower = func() map[string]string {
	m := make(map[string]string, len(knownCasings))
	for _, c := range knownCasings {
		m[strings.ToLower(c)] = c
	}
	return m
}()

// titleSmallWords stay lower-case inside a title.
var titleSmallWords = map[string]bool{
	"a": true, "an": true, "the": true, "and": true, "or": true, "but": true, "nor": true,
	"for": true, "of": true, "in": true, "on": true, "at": true, "to": true, "by": true,
	"with": true, "from": true, "vs": true, "vs.": true, "versus": true, "as": true, "per": true,
	// The commonest of a few other languages ("Écoles de Ski").
	"de": true, "du": true, "des": true, "la": true, "le": true, "les": true, "et": true, "für": true,
	"und": true, "der": true, "die": true, "das": true, "y": true, "el": true, "del": true,
}

// CaseWord returns the spelling a word keeps in any case: a known
// acronym or brand ("ev" -> "EV", "wordpress" -> "WordPress"), or a model
// number, letters then digits ("xm5" -> "XM5", "om-1" -> "OM-1"), or a
// number with one unit letter ("3d" -> "3D", "12v" -> "12V"); ok is false
// for an ordinary word.
func CaseWord(w string) (string, bool) {
	lw := strings.ToLower(w)
	if c, ok := casingByLower[lw]; ok {
		return c, true
	}
	if c, ok := casingByLower[strings.TrimSuffix(lw, "s")]; ok && len(lw) > 1 && strings.ToUpper(c) == c {
		return c + "s", true // plural acronym: "evs" -> "EVs"
	}
	first, _ := utf8.DecodeRuneInString(lw)
	digits, letters := 0, 0
	for _, r := range lw {
		switch {
		case unicode.IsDigit(r):
			digits++
		case r >= 'a' && r <= 'z':
			letters++
		case r != '-':
			return "", false
		}
	}
	switch {
	case digits == 0 || letters == 0:
		return "", false
	case first >= 'a' && first <= 'z' && letters <= 4: // a model number
		return strings.ToUpper(lw), true
	case unicode.IsDigit(first) && letters == 1 && lw[len(lw)-1] >= 'a': // a number and its unit
		return strings.ToUpper(lw), true
	}
	return "", false
}

// TitleName puts a name in title case: the first word and every word but
// small ones ("for", "vs") capitalized; a word spelled with capitals after
// its first letter, or all in capitals, as given ("iPhone", "SEO"); then
// CaseWord's spellings; and a word that one of keywords spells with
// capitals (the user's own casing) as the keyword does.
func TitleName(name string, keywords []string) string {
	return caseWords(name, keywords, true)
}

// FixCasing gives the words of a name the spellings TitleName gives them
// (known acronyms and brands, model numbers, the user's casing in
// keywords) and leaves every other word as it is: a model's name in any
// language keeps its own capitalization.
func FixCasing(name string, keywords []string) string {
	return caseWords(name, keywords, false)
}

func caseWords(name string, keywords []string, title bool) string {
	userCasing := map[string]string{}
	for _, k := range keywords {
		for _, w := range splitWords(k) {
			if HasCapitalAfterFirst(w) {
				userCasing[strings.ToLower(w)] = w
			}
		}
	}
	words := strings.Fields(name)
	for i, w := range words {
		words[i] = titleWord(w, i == 0, title, userCasing)
	}
	return strings.Join(words, " ")
}

// titleWord cases one space-separated word of a title; its punctuation
// ("(EV)", "Tips:") stays around it.
func titleWord(w string, first, title bool, userCasing map[string]string) string {
	start := strings.IndexFunc(w, isWordRune)
	if start < 0 {
		return w
	}
	end := strings.LastIndexFunc(w, isWordRune)
	end += utf8.RuneLen([]rune(w[end:])[0])
	core := w[start:end]
	lc := strings.ToLower(core)
	switch {
	case userCasing[lc] != "":
		core = userCasing[lc]
	case HasCapitalAfterFirst(core):
	default:
		if c, ok := CaseWord(core); ok {
			core = c
		} else if !title {
			// as given
		} else if !first && titleSmallWords[lc] {
			core = lc
		} else {
			r, size := utf8.DecodeRuneInString(core)
			core = string(unicode.ToTitle(r)) + core[size:]
		}
	}
	return w[:start] + core + w[end:]
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// splitWords splits a phrase at spaces and at punctuation other than
// apostrophes and hyphens.
func splitWords(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return !(isWordRune(r) || r == '\'' || r == '-' || r == '’')
	})
}

// HasCapitalAfterFirst reports a capital after a word's first letter, not
// just after a hyphen ("iPhone", "SEO", "OM-1", but not "Step-By-Step").
func HasCapitalAfterFirst(w string) bool {
	prev := rune(-1)
	for i, r := range w {
		if i > 0 && unicode.IsUpper(r) && prev != '-' {
			return true
		}
		prev = r
	}
	return false
}
