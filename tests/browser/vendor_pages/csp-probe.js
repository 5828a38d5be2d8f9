// Loaded first on every vendor test page: records each Content-Security-Policy violation for the test to read.
window.cspViolations = [];
document.addEventListener('securitypolicyviolation', function (event) {
  window.cspViolations.push({
    directive: event.effectiveDirective,
    blocked: event.blockedURI,
    sample: event.sample,
    source: event.sourceFile + ':' + event.lineNumber + ':' + event.columnNumber,
  });
});
