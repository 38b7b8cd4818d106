// Package markup holds the HTML helpers shared by the AI stages, publishing
// and the API: sanitizing an article body, counting its words, and finding
// its headings and the places after them.
package markup
