"""Credit reports (信用报告): dated PDF reports on one subject with a serial, a verification code and a QR code
to a public verify page. Reports read the archive only through publicity.views, so masking and publicity
windows are those of the view the report was issued in."""
