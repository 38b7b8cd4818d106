package netguard

// Control is the dialer's check, for tests.
var Control = control
