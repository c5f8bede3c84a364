/*
 * report.js: draws the charts of `tlsobs report html` with Chart.js from the
 * page's JSON block (#tlsobs-data). Every figure it draws is also in a table of
 * the page; the strings it shows go through Chart.js's canvas text, never
 * through innerHTML.
 */
(function () {
	'use strict';
	var data = JSON.parse(document.getElementById('tlsobs-data').textContent);
	var Chart = window.Chart;
	var MAX_DAYS = 366, MAX_CERT_BARS = 25, MAX_MIX_BARS = 25, LABEL_CAP = 42, CHARTS_PER_TURN = 12;
	var GREEN = '#2e7d4f', RED = '#c0392b', BLUE = '#1f4e79', ORANGE = '#e08a00';
	var PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7',
		'#9c755f', '#bab0ac'];
	var VERSION_COLORS = {'1.3': GREEN, '1.2': '#4e79a7', '1.1': ORANGE, '1.0': RED, 'SSLv3': '#7b241c'};

	Chart.defaults.animation = false;
	Chart.defaults.maintainAspectRatio = false;
	Chart.defaults.color = '#3b4654';
	Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
	Chart.defaults.plugins.legend.labels.boxWidth = 12;
	Chart.defaults.datasets.bar.maxBarThickness = 44;

	function short(s) {
		return s.length > LABEL_CAP ? s.slice(0, LABEL_CAP - 1) + '\u2026' : s;
	}

	/* Every UTC day from the first to the last day with data (the last MAX_DAYS), so gaps show as gaps. */
	function dayAxis() {
		var first = null, last = null, out = [];
		data.days.forEach(function (r) {
			if (first === null || r[1] < first) first = r[1];
			if (last === null || r[1] > last) last = r[1];
		});
		if (first === null) return out;
		var t = Date.parse(first + 'T00:00:00Z'), end = Date.parse(last + 'T00:00:00Z');
		if (isNaN(t) || isNaN(end)) return [first];
		t = Math.max(t, end - (MAX_DAYS - 1) * 86400000);
		for (; t <= end; t += 86400000) out.push(new Date(t).toISOString().slice(0, 10));
		return out;
	}
	var DAYS = dayAxis();
	var DAY_INDEX = {};
	DAYS.forEach(function (d, i) { DAY_INDEX[d] = i; });

	function zeros() { return DAYS.map(function () { return 0; }); }

	/* Sessions per day (encrypted, clear text) for one partner, or all when partner < 0. */
	function sessionSeries(partner) {
		var enc = zeros(), clear = zeros(), total = zeros();
		data.days.forEach(function (r) {
			var i = DAY_INDEX[r[1]];
			if (i === undefined || (partner >= 0 && r[0] !== partner)) return;
			total[i] += r[2]; enc[i] += r[3]; clear[i] += r[4];
		});
		var shares = total.map(function (n, i) { return n ? Math.round(1000 * enc[i] / n) / 10 : null; });
		return {enc: enc, clear: clear, share: shares};
	}

	/* One series per name (TLS version, failure type) for one partner, names sorted. */
	function countSeries(rows, partner, colors) {
		var by = {};
		rows.forEach(function (r) {
			var i = DAY_INDEX[r[1]];
			if (r[0] !== partner || i === undefined) return;
			if (!by[r[2]]) by[r[2]] = zeros();
			by[r[2]][i] += r[3];
		});
		return Object.keys(by).sort().reverse().map(function (name, k) {
			var c = (colors && colors[name]) || PALETTE[k % PALETTE.length];
			return {label: name, data: by[name], backgroundColor: c, borderColor: c, stack: 's'};
		});
	}

	function stackedScales(yTitle) {
		return {
			x: {stacked: true, grid: {display: false}},
			y: {stacked: true, beginAtZero: true, ticks: {precision: 0}, title: {display: true, text: yTitle}}
		};
	}

	function shareChart(partner) {
		var s = sessionSeries(partner);
		var scales = stackedScales('sessions');
		scales.y1 = {position: 'right', min: 0, max: 100, grid: {drawOnChartArea: false},
			title: {display: true, text: 'encrypted %'}, ticks: {callback: function (v) { return v + ' %'; }}};
		return {
			type: 'bar',
			data: {labels: DAYS, datasets: [
				{type: 'line', label: 'encrypted share', data: s.share, yAxisID: 'y1', borderColor: BLUE,
					backgroundColor: BLUE, pointRadius: DAYS.length > 31 ? 0 : 3, borderWidth: 2, spanGaps: false,
					order: 0},
				{label: 'encrypted', data: s.enc, backgroundColor: GREEN, stack: 's', order: 1},
				{label: 'clear text', data: s.clear, backgroundColor: RED, stack: 's', order: 1}
			]},
			options: {scales: scales, plugins: {
				title: {display: DAYS.length === 0, text: 'No session recorded', color: '#5b6675'},
				tooltip: {callbacks: {label: function (c) {
					return c.dataset.label + ': ' + c.formattedValue + (c.dataset.yAxisID === 'y1' ? ' %' : '');
				}}}
			}}
		};
	}

	function countChart(rows, partner, colors, yTitle, none) {
		var sets = countSeries(rows, partner, colors);
		return {
			type: 'bar',
			data: {labels: DAYS, datasets: sets},
			options: {scales: stackedScales(yTitle),
				plugins: {title: {display: sets.length === 0, text: none, color: '#5b6675'}}}
		};
	}

	/* The lowest shares first, the most sessions first among equals: where to act; the first MAX_MIX_BARS. */
	function mixChart(canvas) {
		var all = data.partners.filter(function (p) { return p.sessions > 0; }).map(function (p) {
			return {name: p.name, sessions: p.sessions, share: Math.round(1000 * p.encrypted / p.sessions) / 10};
		}).sort(function (a, b) { return a.share - b.share || b.sessions - a.sessions; });
		var ps = all.slice(0, MAX_MIX_BARS);
		var shares = ps.map(function (p) { return p.share; });
		canvas.parentNode.style.height = Math.max(240, 60 + 26 * ps.length) + 'px';
		return {
			type: 'bar',
			data: {labels: ps.map(function (p) { return short(p.name); }), datasets: [{label: 'encrypted share',
				data: shares, backgroundColor: shares.map(function (v) {
					return v >= 95 ? GREEN : v >= 50 ? ORANGE : RED;
				})}]},
			options: {indexAxis: 'y', plugins: {legend: {display: false},
				title: {display: all.length !== ps.length || ps.length === 0, color: '#5b6675',
					text: ps.length ? 'the ' + ps.length + ' lowest of ' + all.length : 'No session recorded'}},
				scales: {x: {min: 0, max: 100, ticks: {callback: function (v) { return v + ' %'; }}},
					y: {grid: {display: false}}}}
		};
	}

	function expiryColor(days) {
		return days < 0 ? RED : days <= data.soon_days ? ORANGE : GREEN;
	}

	/* The soonest certificates (the data comes soonest first), one bar each. */
	function expiryChart(canvas) {
		var certs = data.certificates.slice(0, MAX_CERT_BARS);
		canvas.parentNode.style.height = Math.max(240, 60 + 24 * certs.length) + 'px';
		return {
			type: 'bar',
			data: {labels: certs.map(function (c) {
				/* Subjects are RFC 4514 strings from our x509 adapter: "CN=...,O=...". */
				var cn = /(?:^|,)\s*CN=([^,]+)/.exec(c[0]);
				return short((cn ? cn[1] : c[0]) + (c[1] ? ' (' + c[1] + ')' : ''));
			}), datasets: [{label: 'days left', data: certs.map(function (c) { return c[2]; }),
				backgroundColor: certs.map(function (c) { return expiryColor(c[2]); })}]},
			options: {indexAxis: 'y', plugins: {legend: {display: false},
				title: {display: certs.length === 0, text: 'No certificate recorded', color: '#5b6675'},
				tooltip: {callbacks: {title: function (items) {
					return certs[items[0].dataIndex][0];
				}, afterLabel: function (item) { return 'not after ' + certs[item.dataIndex][3]; }}}},
				scales: {x: {title: {display: true, text: 'days left'}}, y: {grid: {display: false}}}}
		};
	}

	function bucketChart() {
		var names = ['expired', '0-7', '8-30', '31-90', '91-365', '> 365'];
		var limits = [-1, 7, 30, 90, 365, Infinity], counts = [0, 0, 0, 0, 0, 0];
		data.certificates.forEach(function (c) {
			for (var i = 0; i < limits.length; i++) if (c[2] <= limits[i]) { counts[i]++; break; }
		});
		return {
			type: 'bar',
			data: {labels: names, datasets: [{label: 'certificates', data: counts,
				backgroundColor: [RED, RED, ORANGE, '#8fbf6a', GREEN, GREEN]}]},
			options: {plugins: {legend: {display: false}},
				scales: {x: {title: {display: true, text: 'days left'}, grid: {display: false}},
					y: {beginAtZero: true, ticks: {precision: 0}, title: {display: true, text: 'certificates'}}}}
		};
	}

	function config(canvas) {
		var p = parseInt(canvas.getAttribute('data-partner'), 10);
		switch (canvas.getAttribute('data-chart')) {
		case 'overview': return shareChart(-1);
		case 'mix': return mixChart(canvas);
		case 'share': return shareChart(p);
		case 'versions':
			return countChart(data.versions, p, VERSION_COLORS, 'encrypted sessions', 'No encrypted session');
		case 'failures': return countChart(data.failures, p, null, 'failed sessions', 'No failure in these days');
		case 'expiry': return expiryChart(canvas);
		case 'expiry-buckets': return bucketChart();
		}
		return null;
	}

	/* With the charts drawn, the daily tables fold away; without JavaScript they stay open. */
	document.querySelectorAll('details.daily').forEach(function (d) { d.open = false; });
	/*
	 * A few charts at a time, the top of the page first: with hundreds of partners the page shows and scrolls
	 * at once while the rest are drawn. <html data-charts="drawn"> says when all are.
	 */
	var canvases = Array.prototype.slice.call(document.querySelectorAll('canvas[data-chart]')), next = 0;
	function drawSome() {
		for (var end = Math.min(next + CHARTS_PER_TURN, canvases.length); next < end; next++) {
			var c = config(canvases[next]);
			if (c) new Chart(canvases[next], c);
		}
		if (next < canvases.length) setTimeout(drawSome, 0);
		else document.documentElement.setAttribute('data-charts', 'drawn');
	}
	drawSome();
})();
