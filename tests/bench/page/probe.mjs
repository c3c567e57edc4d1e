// The page bench's page: hands the chosen file to probe-worker.mjs with the steps to time,
// and shows the figures it sends back (bench/page.mjs reads them from window.benchResult).

const input = document.getElementById('file');
input.addEventListener('change', () => {
  const steps = JSON.parse(document.body.dataset.steps || '[]');
  const worker = new Worker('probe-worker.mjs', { type: 'module' });
  worker.onmessage = (e) => {
    window.benchResult = e.data;
    document.getElementById('out').textContent = JSON.stringify(e.data, null, 2);
  };
  worker.postMessage({ file: input.files[0], steps });
});
