//go:build !js

package main

// zoomScript lets a reader zoom the page. go-app v9.8.0 writes a viewport meta tag with
// maximum-scale=1 and user-scalable=0, which stops pinch zoom on a tablet or phone (WCAG 2.1,
// 1.4.4 Resize text; axe-core's meta-viewport rule). It sits in the head after that tag and
// rewrites it before the page draws.
const zoomScript = `<script>(m => { if (m) m.content = 'width=device-width, initial-scale=1, viewport-fit=cover'; })(document.querySelector('meta[name="viewport"]'));</script>`
