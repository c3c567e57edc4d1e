// The page's entry point: connects what the person does (choose or drop a file, click,
// type, Escape) to the controller, and registers the service worker that makes the page
// work offline. The work itself happens in worker.mjs, where the wasm runs.

import { cancel, openFile, selectImage, squash, squashFromRoot, start } from './controller.mjs';
import { $ } from './view/dom.mjs';
import { hideError } from './view/error.mjs';
import { copyLoadCommand } from './view/result.mjs';

function wireFileInput() {
  const input = $('file');
  input.addEventListener('change', () => {
    const f = input.files && input.files[0];
    if (f) openFile(f);
    input.value = ''; // choosing the same file again works
  });
}

/** A file dropped anywhere on the page opens it; the drop zone lights up meanwhile. */
function wireDrop() {
  const drop = $('drop');
  let depth = 0; // dragenter/dragleave fire for every child element crossed
  const isFiles = (e) => e.dataTransfer && Array.from(e.dataTransfer.types || []).includes('Files');
  document.addEventListener('dragenter', (e) => {
    if (!isFiles(e)) return;
    e.preventDefault();
    depth++;
    drop.classList.add('over');
  });
  document.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) drop.classList.remove('over');
  });
  document.addEventListener('dragover', (e) => {
    if (!isFiles(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
  });
  document.addEventListener('drop', (e) => {
    if (!isFiles(e)) return;
    e.preventDefault();
    depth = 0;
    drop.classList.remove('over');
    const f = e.dataTransfer.files && e.dataTransfer.files[0];
    if (f) openFile(f);
  });
}

function wireControls() {
  $('image-select').addEventListener('change', () => selectImage(Number($('image-select').value)));
  $('root').addEventListener('click', squashFromRoot);
  $('squash').addEventListener('click', squash);
  $('tag').addEventListener('keydown', (e) => {
    if (e.key === 'Enter') squash();
  });
  $('cancel').addEventListener('click', cancel);
  $('copy').addEventListener('click', copyLoadCommand);
  $('error-close').addEventListener('click', hideError);
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') cancel();
  });
}

function registerServiceWorker() {
  if ('serviceWorker' in navigator && location.protocol.startsWith('http')) {
    navigator.serviceWorker.register('sw.js').catch(() => {
      /* the page works without it, only not offline */
    });
  }
}

start();
wireFileInput();
wireDrop();
wireControls();
registerServiceWorker();
