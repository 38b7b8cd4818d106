package ai

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/presswork/presswork/internal/errs"
)

// Profile is the effective content profile of a site: how its articles are
// written. Every stage's prompt receives it as .Profile. The zero Profile is
// the built-in default: the language of the keywords, no voice, audience or
// point of view of its own, nothing to avoid, the prompt's usual length and
// no FAQ, table of contents or key takeaways.
type Profile struct {
	// Language is a BCP 47 tag in canonical form ("de-AT"); "" means the
	// language of the keywords.
	Language    string   `json:"language"`
	Voice       string   `json:"voice"`
	Audience    string   `json:"audience"`
	PointOfView string   `json:"point_of_view"`
	Avoid       []string `json:"avoid"`
	// WordTargets is the length aimed for by content type (ContentTypes);
	// a type without one has no target.
	WordTargets     map[string]int `json:"word_targets"`
	FAQ             bool           `json:"faq"`
	TableOfContents bool           `json:"table_of_contents"`
	KeyTakeaways    bool           `json:"key_takeaways"`
}

// ProfileSettings are the profile fields a site or a tenant sets; nil (or a
// content type missing from WordTargets) takes the value from the next
// level: the site's from the tenant's, the tenant's from the built-in
// default.
type ProfileSettings struct {
	Language        *string        `json:"language,omitempty"`
	Voice           *string        `json:"voice,omitempty"`
	Audience        *string        `json:"audience,omitempty"`
	PointOfView     *string        `json:"point_of_view,omitempty"`
	Avoid           *[]string      `json:"avoid,omitempty"`
	WordTargets     map[string]int `json:"word_targets,omitempty"`
	FAQ             *bool          `json:"faq,omitempty"`
	TableOfContents *bool          `json:"table_of_contents,omitempty"`
	KeyTakeaways    *bool          `json:"key_takeaways,omitempty"`
}

// Bounds of a profile's fields.
const (
	MaxLanguageLen  = 35
	MaxVoiceLen     = 500
	MaxAudienceLen  = 300
	MaxAvoidItems   = 30
	MaxAvoidItemLen = 100
	MinWordTarget   = 300
	MaxWordTarget   = 10000
)

// PointsOfView are the values of Profile.PointOfView besides "" (no
// preference).
var PointsOfView = []string{"first_person_singular", "first_person_plural", "second_person", "third_person"}

// EffectiveProfile merges a site's settings over its tenant's over the
// built-in default.
func EffectiveProfile(site, tenant ProfileSettings) Profile {
	var p Profile
	for _, s := range []ProfileSettings{tenant, site} {
		setIf(&p.Language, s.Language)
		setIf(&p.Voice, s.Voice)
		setIf(&p.Audience, s.Audience)
		setIf(&p.PointOfView, s.PointOfView)
		if s.Avoid != nil {
			p.Avoid = slices.Clone(*s.Avoid)
		}
		if len(s.WordTargets) > 0 {
			if p.WordTargets == nil {
				p.WordTargets = map[string]int{}
			}
			maps.Copy(p.WordTargets, s.WordTargets)
		}
		setIf(&p.FAQ, s.FAQ)
		setIf(&p.TableOfContents, s.TableOfContents)
		setIf(&p.KeyTakeaways, s.KeyTakeaways)
	}
	if p.Avoid == nil {
		p.Avoid = []string{}
	}
	if p.WordTargets == nil {
		p.WordTargets = map[string]int{}
	}
	return p
}

func setIf[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

// Normalize validates s and returns it with its texts trimmed and its
// language in canonical form. Problems are an *errs.ValidationError naming
// each field ("language", "avoid[2]", "word_targets.guide", ...).
func (s ProfileSettings) Normalize() (ProfileSettings, error) {
	ve := &errs.ValidationError{}
	out := s
	if s.Language != nil {
		v := strings.TrimSpace(*s.Language)
		switch {
		case v == "":
			// "" is a valid choice: the language of the keywords.
		case len(v) > MaxLanguageLen:
			ve.Add("language", "must be a BCP 47 language tag of at most %d characters", MaxLanguageLen)
		default:
			tag, err := language.Parse(v)
			if err != nil {
				ve.Add("language", "must be a BCP 47 language tag such as \"en\", \"de-AT\" or \"pt-BR\"")
				break
			}
			if base, conf := tag.Base(); tag.IsRoot() || conf == language.No || base.String() == "und" {
				ve.Add("language", "must name a language")
				break
			}
			v = tag.String()
		}
		out.Language = &v
	}
	out.Voice = profileText(ve, "voice", s.Voice, MaxVoiceLen)
	out.Audience = profileText(ve, "audience", s.Audience, MaxAudienceLen)
	if s.PointOfView != nil {
		v := strings.TrimSpace(*s.PointOfView)
		if v != "" && !slices.Contains(PointsOfView, v) {
			ve.Add("point_of_view", "must be one of %s, or empty", strings.Join(PointsOfView, ", "))
		}
		out.PointOfView = &v
	}
	if s.Avoid != nil {
		items := *s.Avoid
		if len(items) > MaxAvoidItems {
			ve.Add("avoid", "must have at most %d entries, got %d", MaxAvoidItems, len(items))
		}
		clean := make([]string, 0, len(items))
		seen := map[string]bool{}
		for i, a := range items {
			field := fmt.Sprintf("avoid[%d]", i)
			a = strings.TrimSpace(a)
			switch {
			case a == "":
				ve.Add(field, "must not be empty")
			case utf8.RuneCountInString(a) > MaxAvoidItemLen:
				ve.Add(field, "must be at most %d characters", MaxAvoidItemLen)
			case hasControl(a, false):
				ve.Add(field, "must be one line without control characters")
			case seen[strings.ToLower(a)]:
				ve.Add(field, "repeats an earlier entry")
			}
			seen[strings.ToLower(a)] = true
			clean = append(clean, a)
		}
		out.Avoid = &clean
	}
	if s.WordTargets != nil {
		out.WordTargets = make(map[string]int, len(s.WordTargets))
		for _, t := range slices.Sorted(maps.Keys(s.WordTargets)) {
			n := s.WordTargets[t]
			field := "word_targets." + t
			switch {
			case !isContentType(t):
				ve.Add(field, "is not a content type; the content types are %s", strings.Join(ContentTypes, ", "))
			case n < MinWordTarget || n > MaxWordTarget:
				ve.Add(field, "must be from %d to %d words, got %d", MinWordTarget, MaxWordTarget, n)
			}
			out.WordTargets[t] = n
		}
	}
	return out, ve.OrNil()
}

// profileText trims a free-text field and checks its length and
// characters (line breaks allowed, other control characters not).
func profileText(ve *errs.ValidationError, field string, v *string, maxLen int) *string {
	if v == nil {
		return nil
	}
	s := strings.TrimSpace(*v)
	switch {
	case !utf8.ValidString(s):
		ve.Add(field, "is not valid UTF-8")
	case utf8.RuneCountInString(s) > maxLen:
		ve.Add(field, "must be at most %d characters, got %d", maxLen, utf8.RuneCountInString(s))
	case hasControl(s, true):
		ve.Add(field, "must not contain control characters other than line breaks")
	}
	return &s
}

func hasControl(s string, lineBreaks bool) bool {
	return strings.ContainsFunc(s, func(r rune) bool {
		return unicode.IsControl(r) && !(lineBreaks && (r == '\n' || r == '\r'))
	})
}

// WordTarget is the profile's length target for a content type, 0 when it
// has none.
func (p Profile) WordTarget(contentType string) int { return p.WordTargets[contentType] }

// LanguageName names the profile's language in English with its tag
// ("German (de-AT)"), or "" when it has none.
func (p Profile) LanguageName() string { return languageName(p.Language) }

// languageName names a BCP 47 tag in English, with the tag: "German
// (de-AT)"; a tag that does not parse is returned as it is.
func languageName(tag string) string {
	if tag == "" {
		return ""
	}
	t, err := language.Parse(tag)
	if err != nil {
		return tag
	}
	name := display.English.Tags().Name(t)
	if name == "" {
		return tag
	}
	return name + " (" + t.String() + ")"
}

// PointOfViewText says a point of view in words for a prompt ("the first
// person plural (we, our)"), or "" for none.
func (p Profile) PointOfViewText() string {
	switch p.PointOfView {
	case "first_person_singular":
		return "the first person singular (I, my)"
	case "first_person_plural":
		return "the first person plural (we, our)"
	case "second_person":
		return "the second person, addressing the reader (you, your)"
	case "third_person":
		return "the third person, without I, we or you"
	}
	return ""
}

// ProfileOf returns the effective profile of a site from its stored
// settings document and its tenant's (JSON objects of ProfileSettings;
// empty counts as {}).
func ProfileOf(site, tenant []byte) (Profile, error) {
	s, err := decodeSettings(site)
	if err != nil {
		return Profile{}, fmt.Errorf("the site's content profile: %w", err)
	}
	t, err := decodeSettings(tenant)
	if err != nil {
		return Profile{}, fmt.Errorf("the tenant's content profile: %w", err)
	}
	return EffectiveProfile(s, t), nil
}

// decodeSettings reads a stored settings document; fields it does not know
// (written by a newer version) are ignored.
func decodeSettings(doc []byte) (ProfileSettings, error) {
	var s ProfileSettings
	if len(strings.TrimSpace(string(doc))) == 0 {
		return s, nil
	}
	err := json.Unmarshal(doc, &s)
	return s, err
}
