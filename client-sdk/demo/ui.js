// Small DOM helpers shared by the demo's panels: building elements, and toasts.

/** `el('button.small', { onclick }, 'Mute')`: a tag with classes, properties or data-*, children. */
export function el(spec, props = {}, ...children) {
  const [tag, ...classes] = spec.split('.');
  const node = document.createElement(tag);
  if (classes.length) node.className = classes.join(' ');
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined) continue;
    if (key === 'data') Object.assign(node.dataset, value);
    else if (key in node) node[key] = value;
    else node.setAttribute(key, value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

/** A message at the bottom of the page for a few seconds; `action`: a button in it. */
export function toast(text, { action, kind = 'info', ms = 6000 } = {}) {
  const box = el(`div.toast.${kind}`, { role: 'status' }, el('span', { textContent: text }));
  if (action) {
    box.append(
      el('button.small', {
        type: 'button',
        textContent: action.label,
        onclick: () => {
          box.remove();
          action.run();
        },
      }),
    );
  }
  document.getElementById('toasts').append(box);
  setTimeout(() => box.remove(), ms);
  return box;
}

/** Runs a host action, showing its refusal as a toast instead of failing silently. */
export async function attempt(work) {
  try {
    return await work();
  } catch (error) {
    console.warn(error);
    toast(error.message ?? String(error), { kind: 'error' });
    return undefined;
  }
}

/** `run`, called at most once per turn of the event loop however often the result is called. */
export function batched(run) {
  let queued = false;
  return () => {
    if (queued) return;
    queued = true;
    queueMicrotask(() => {
      queued = false;
      run();
    });
  };
}

export function timeOf(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}
