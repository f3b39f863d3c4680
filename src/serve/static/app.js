// The server's web page: search the index (hits with the matching chunk highlighted in its
// document), compare two sentences (cosine), the model card and live figures from /metrics.
// Plain browser JavaScript, no build step; everything goes through the server's own routes.

const $ = (id) => document.getElementById(id);
const keyInput = $('key');
keyInput.value = sessionStorage.getItem('sentencekit-key') ?? '';
keyInput.addEventListener('change', () => { sessionStorage.setItem('sentencekit-key', keyInput.value); refresh(); });

async function api(path, body) {
  const headers = { 'content-type': 'application/json' };
  if (keyInput.value) headers.authorization = `Bearer ${keyInput.value}`;
  const res = await fetch(path, body === undefined ? { headers } : { method: 'POST', headers, body: JSON.stringify(body) });
  if (res.status === 401) $('key-box').hidden = false;
  const type = res.headers.get('content-type') ?? '';
  const data = type.includes('json') ? await res.json() : await res.text();
  if (!res.ok) throw new Error(typeof data === 'object' && data ? (data.error?.message ?? data.error ?? res.statusText) : String(data));
  return data;
}

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  Object.assign(e, props);
  for (const c of children) e.append(c);
  return e;
}

let info = null;

async function loadInfo() {
  info = await api('/info');
  $('model').textContent = `${info.model_id} · ${info.dimension} dimensions · max ${info.max_input_length} tokens` +
    (info.index ? ` · index: ${info.index.count} documents (${info.index.backend})` : ' · no index');
  if (!info.index) {
    $('search-status').textContent = 'No index is served: start the server with --index DIR to search.';
    $('query').disabled = true;
  }
  $('card').textContent = await api('/model_card');
}

/** The hit's document rebuilt from its chunks (character offsets start/end), the hit's chunk marked. */
async function documentView(query, hit) {
  const m = hit.metadata ?? {};
  const box = el('div', { className: 'doc' });
  if (typeof m.doc_id !== 'string' || typeof m.start !== 'number') {
    box.append(el('mark', { textContent: hit.text ?? '' }));
    return box;
  }
  const res = await api('/search', { query, top_k: 100, filter: { doc_id: m.doc_id } });
  const chunks = res.hits.filter((h) => typeof h.metadata?.start === 'number').sort((a, b) => a.metadata.start - b.metadata.start);
  let cursor = 0;
  for (const c of chunks) {
    const s = c.metadata.start;
    const text = c.text ?? '';
    const from = Math.max(0, cursor - s);
    if (from >= text.length) continue;
    if (s > cursor) box.append(' ');
    const part = text.slice(from);
    box.append(c.id === hit.id ? el('mark', { textContent: part }) : part);
    cursor = s + text.length;
  }
  if (!chunks.some((c) => c.id === hit.id)) box.append(el('mark', { textContent: hit.text ?? '' }));
  return box;
}

$('search-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const query = $('query').value.trim();
  const status = $('search-status');
  const list = $('hits');
  list.replaceChildren();
  status.className = 'status';
  status.textContent = 'Searching…';
  const t0 = performance.now();
  try {
    const res = await api('/search', { query, top_k: Number($('top-k').value) || 5 });
    const ms = Math.round(performance.now() - t0);
    const items = await Promise.all(res.hits.map(async (hit) => el('li', { className: 'hit' },
      el('div', { className: 'hit-head' }, el('span', { className: 'score', textContent: hit.score.toFixed(4) }), el('span', { textContent: hit.id })),
      await documentView(query, hit))));
    list.replaceChildren(...items);
    status.textContent = `${res.hits.length} hits in ${ms} ms`;
  } catch (e) {
    status.className = 'status error';
    status.textContent = e.message;
  }
});

$('compare-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const out = $('compare-result');
  out.className = 'status';
  try {
    const [score] = await api('/similarity', { inputs: { source_sentence: $('s1').value, sentences: [$('s2').value] } });
    out.textContent = `cosine similarity: ${score.toFixed(4)}`;
  } catch (e) {
    out.className = 'status error';
    out.textContent = e.message;
  }
});

/** A few figures summed over labels from the Prometheus text. */
function figures(text) {
  const sum = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-z_:]+)(?:\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (m) sum[m[1]] = (sum[m[1]] ?? 0) + Number(m[2]);
  }
  const batches = sum.sentencekit_batch_size_count ?? 0;
  return [
    ['requests answered', sum.sentencekit_requests_total ?? 0],
    ['requests in flight', sum.sentencekit_requests_in_flight ?? 0],
    ['inputs queued', sum.sentencekit_queue_depth ?? 0],
    ['batches run', batches],
    ['mean batch size', batches ? (sum.sentencekit_batch_size_sum / batches).toFixed(1) : '–'],
    ['tokens embedded', sum.sentencekit_tokens_embedded_total ?? 0],
    ['resident memory (MB)', ((sum.sentencekit_process_resident_memory_bytes ?? 0) / 1e6).toFixed(0)],
  ];
}

async function refreshMetrics() {
  try {
    const rows = figures(await api('/metrics'));
    $('metrics').tBodies[0].replaceChildren(...rows.map(([k, v]) => el('tr', {}, el('td', { textContent: k }), el('td', { textContent: String(v) }))));
  } catch { /* shown again on the next tick */ }
}

async function refresh() {
  try {
    await loadInfo();
  } catch (e) {
    $('model').textContent = e.message;
  }
  await refreshMetrics();
}

refresh();
setInterval(refreshMetrics, 2000);
