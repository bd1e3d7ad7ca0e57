//! Courier headless fleet simulation (see issue 7).
