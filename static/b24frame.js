/* Frame protocol client. */
window.B24Frame = window.B24Frame || {};
