// The latent-space explorer: a VAE's encoder and decoder (encoder.onnx, decoder.onnx,
// written by `vae export`) run in the browser by onnxruntime-web, which the site serves
// itself.
//
// The page holds <div id="vae-explorer" data-model="FOLDER/">; FOLDER has both graphs,
// export.json (latent size, image shape, classes, KL per dimension) and examples.json
// (test images with their posteriors from the package's encoder, and the posteriors of
// 1,000 test images: the aggregate posterior). ?model=FOLDER/ in the page's address loads
// another export. For tests and the curious, window.vaeExplorer has decode(z, label) ->
// E[x|z] as a Float32Array (C*H*W), encode(pixels, label) -> {mu, logVar} and state()
// -> {z, label, posterior}.
import * as ort from "./ort/ort.wasm.min.mjs";

ort.env.wasm.wasmPaths = new URL("./ort/", import.meta.url).href;
ort.env.wasm.numThreads = 1; // no cross-origin isolation on a static site: one thread
ort.env.wasm.proxy = false;

const LIMIT = 3; // the sliders and the pad span [-3, 3] in every coordinate
const SCALE = 8; // screen pixels per image pixel

const root = document.getElementById("vae-explorer");
const status = element("p", { class: "explorer-status", role: "status" }, "Loading the model…");
root.replaceChildren(status);

function element(tag, attributes = {}, text = "") {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  if (text) node.textContent = text;
  return node;
}

function fail(message) {
  status.textContent = message;
  status.classList.add("explorer-error");
  root.replaceChildren(status);
  window.vaeExplorer.error = message;
  throw new Error(message);
}

async function fetchJson(url) {
  let response;
  try {
    response = await fetch(url);
  } catch (error) {
    fail(`Could not fetch ${url} (${error.message}).`);
  }
  if (!response.ok) fail(`Could not load ${url}: HTTP ${response.status}. Export a run with \`vae export RUN --format onnx\` into this folder.`);
  try {
    return await response.json();
  } catch (error) {
    fail(`${url} is not valid JSON (${error.message}): the export is corrupt; export the run again.`);
  }
}

// One inference at a time over both sessions: calls wait in this queue.
let queue = Promise.resolve();

function inOrder(work) {
  const run = queue.then(work);
  queue = run.catch(() => {});
  return run;
}

function makeDecoder(session, meta) {
  const latent = meta.latent_dim;
  return (z, label) =>
    inOrder(async () => {
      const feeds = { z: new ort.Tensor("float32", Float32Array.from(z), [1, latent]) };
      if (meta.classes) feeds.labels = new ort.Tensor("int64", BigInt64Array.from([BigInt(label)]), [1]);
      const out = await session.run(feeds);
      return out.mean.data;
    });
}

function makeEncoder(session, meta) {
  const shape = meta.image_shape;
  return (pixels, label) =>
    inOrder(async () => {
      const feeds = { images: new ort.Tensor("float32", Float32Array.from(pixels), [1, ...shape]) };
      if (meta.classes) feeds.labels = new ort.Tensor("int64", BigInt64Array.from([BigInt(label)]), [1]);
      const out = await session.run(feeds);
      return { mu: Array.from(out.mu.data), logVar: Array.from(out.log_var.data) };
    });
}

function draw(canvas, pixels, shape) {
  // pixels: C*H*W values in [0, 1] (channel-first), or 0..255 when bytes is true
  const [channels, height, width] = shape;
  const context = canvas.getContext("2d");
  const image = context.createImageData(width, height);
  const bytes = pixels instanceof Uint8Array || Array.isArray(pixels);
  for (let i = 0; i < height * width; i++) {
    for (let c = 0; c < 3; c++) {
      const v = pixels[(channels === 3 ? c : 0) * height * width + i];
      image.data[4 * i + c] = bytes ? v : Math.round(255 * Math.min(1, Math.max(0, v)));
    }
    image.data[4 * i + 3] = 255;
  }
  const small = new OffscreenCanvas(width, height);
  small.getContext("2d").putImageData(image, 0, 0);
  context.imageSmoothingEnabled = false;
  context.drawImage(small, 0, 0, canvas.width, canvas.height);
}

const SHADE = 120; // the shading's grid, scaled up to the pad

function shade(density) {
  // density(u, v) over [-3, 3]^2 on a SHADE x SHADE grid, darker where it is larger,
  // relative to its largest value on the pad
  const values = new Float64Array(SHADE * SHADE);
  for (let y = 0; y < SHADE; y++) {
    for (let x = 0; x < SHADE; x++) {
      const u = ((x + 0.5) / SHADE) * 2 * LIMIT - LIMIT;
      const v = LIMIT - ((y + 0.5) / SHADE) * 2 * LIMIT;
      values[y * SHADE + x] = density(u, v);
    }
  }
  const peak = values.reduce((a, b) => Math.max(a, b), 0) || 1;
  const canvas = new OffscreenCanvas(SHADE, SHADE);
  const context = canvas.getContext("2d");
  const image = context.createImageData(SHADE, SHADE);
  values.forEach((value, i) => {
    const level = value / peak;
    image.data[4 * i] = image.data[4 * i + 1] = 255 - Math.round(110 * level);
    image.data[4 * i + 2] = 255 - Math.round(40 * level);
    image.data[4 * i + 3] = 255;
  });
  context.putImageData(image, 0, 0);
  return canvas;
}

function normal(v, mean, variance) {
  return Math.exp(-((v - mean) ** 2) / (2 * variance)) / Math.sqrt(variance);
}

// the ten colours of matplotlib's tab10, as chapter 9's figures colour the classes
const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

async function main() {
  const folder = new URLSearchParams(location.search).get("model") || root.dataset.model;
  const base = new URL(folder, location.href);
  const meta = await fetchJson(new URL("export.json", base));
  const examples = await fetchJson(new URL("examples.json", base));
  if (!Number.isInteger(meta.latent_dim) || !Array.isArray(meta.image_shape)) {
    fail(`${new URL("export.json", base)} does not describe a model (no latent_dim or image_shape): export the run again with this version of the package.`);
  }
  const sessions = {};
  for (const graph of ["decoder", "encoder"]) {
    const url = new URL(`${graph}.onnx`, base);
    try {
      sessions[graph] = await ort.InferenceSession.create(url.href);
    } catch (error) {
      fail(`The ${graph} ${url} could not be loaded (${error.message || error}): the file is missing or corrupt; export the run again.`);
    }
  }
  const decode = makeDecoder(sessions.decoder, meta);
  const encode = makeEncoder(sessions.encoder, meta);
  Object.assign(window.vaeExplorer, { decode, encode, meta });

  const latent = meta.latent_dim;
  const shape = meta.image_shape;
  const [padX, padY] = meta.dims_by_kl.length > 1 ? meta.dims_by_kl : [0, 0];
  const z = new Array(latent).fill(0);
  let label = 0;
  let posterior = null; // {mu, logVar, source}: the posterior z is drawn from, once chosen
  window.vaeExplorer.state = () => ({ z: z.slice(), label, posterior });

  // --- the widget: the image, the pad, the sliders side by side
  const output = element("canvas", { id: "explorer-image", width: shape[2] * SCALE, height: shape[1] * SCALE, "aria-label": "the decoded image" });
  const pad = element("canvas", { id: "explorer-pad", width: 240, height: 240, "aria-label": `latent dimensions ${padX} and ${padY}` });
  const codes = examples.codes || { mu: [], log_var: [], labels: [] };
  const densities = {
    prior: (u, v) => normal(u, 0, 1) * normal(v, 0, 1),
    aggregate: (u, v) => {
      let sum = 0;
      codes.mu.forEach((mu, n) => {
        const lv = codes.log_var[n];
        sum += normal(u, mu[padX], Math.exp(lv[padX])) * (padY === padX ? 1 : normal(v, mu[padY], Math.exp(lv[padY])));
      });
      return sum;
    },
  };
  const shades = {}; // each density's shading, computed when first shown
  const shadeOf = (name) => (shades[name] ??= shade(densities[name]));
  const shading = element("select", { id: "explorer-shading", "aria-label": "the density shaded on the pad" });
  shading.append(
    element("option", { value: "prior" }, "shade: the prior N(0, I)"),
    element("option", { value: "aggregate" }, `shade: the aggregate posterior of ${codes.mu.length.toLocaleString("en")} test images`),
  );
  shading.addEventListener("change", drawPad);
  const showCodes = element("input", { type: "checkbox", id: "explorer-codes", checked: "" });
  showCodes.addEventListener("change", drawPad);

  const sliders = element("div", { class: "explorer-sliders" });
  const inputs = [];
  for (let d = 0; d < latent; d++) {
    const row = element("label", { class: "explorer-slider" });
    const name = element("span", {}, `z${d}`);
    const input = element("input", { type: "range", min: -LIMIT, max: LIMIT, step: 0.01, value: 0, "data-dim": d });
    const value = element("output", {}, "0.00");
    const info = element("span", { class: "explorer-kl" }, `KL ${meta.kl_per_dim[d].toFixed(2)} nats`);
    input.addEventListener("input", () => {
      z[d] = Number(input.value);
      update();
    });
    row.append(name, input, value, info);
    sliders.append(row);
    inputs.push([input, value]);
  }
  const controls = element("div", { class: "explorer-controls" });
  const select = element("select", { id: "explorer-class", "aria-label": "the class" });
  if (meta.classes) {
    meta.classes.forEach((name, i) => select.append(element("option", { value: i }, `class ${name}`)));
    select.addEventListener("change", () => {
      label = Number(select.value);
      update();
    });
    controls.append(element("label", {}, "Class: "), select);
  }
  const reset = element("button", { type: "button" }, "z = 0");
  reset.addEventListener("click", () => setZ(new Array(latent).fill(0)));
  const fromPrior = element("button", { type: "button", id: "explorer-prior" }, "z ~ N(0, I)");
  fromPrior.addEventListener("click", () => setZ(z.map(() => gaussian())));
  const fromPosterior = element("button", { type: "button", id: "explorer-epsilon", disabled: "" }, "draw ε: z = μ + σ ⊙ ε");
  fromPosterior.addEventListener("click", () => setZ(posterior.mu.map((m, d) => m + Math.exp(0.5 * posterior.logVar[d]) * gaussian())));
  controls.append(reset, fromPrior, fromPosterior);
  const where = element("p", { class: "explorer-caption", id: "explorer-posterior" }, "Pick a test image or draw one: its posterior is drawn on the pad, and “draw ε” samples z from it (chapter 5).");

  const widget = element("div", { class: "explorer-main" });
  const left = element("div", {});
  left.append(output, controls, where);
  const middle = element("div", {});
  const padOptions = element("div", { class: "explorer-controls" });
  padOptions.append(shading, element("label", { for: "explorer-codes" }, "test codes"), showCodes);
  middle.append(
    element("p", { class: "explorer-caption" }, `The pad: z${padX} across, z${padY} up (the two dimensions of largest KL), over [−3, 3]². Dots: the posterior means of the test images, by class; the ellipse: the chosen image's posterior, μ ± σ.`),
    pad,
    padOptions,
  );
  widget.append(left, middle, sliders);

  // --- draw a digit, and see its posterior
  const [channels, height, width] = shape;
  const drawn = new Float32Array(height * width);
  const sketch = element("canvas", { id: "explorer-sketch", width: width * 6, height: height * 6, "aria-label": "draw an image here" });
  const encodeButton = element("button", { type: "button", id: "explorer-encode" }, "encode the drawing");
  const clear = element("button", { type: "button" }, "clear");
  const sketchPixels = () => Float32Array.from(Array.from({ length: channels }, () => Array.from(drawn)).flat());
  function drawSketch() {
    draw(sketch, sketchPixels(), shape);
  }
  function paint(event) {
    if (event.type !== "pointerdown" && !(event.buttons & 1)) return;
    const box = sketch.getBoundingClientRect();
    const cx = ((event.clientX - box.left) / box.width) * width - 0.5;
    const cy = ((event.clientY - box.top) / box.height) * height - 0.5;
    for (let y = Math.floor(cy - 2); y <= Math.ceil(cy + 2); y++) {
      for (let x = Math.floor(cx - 2); x <= Math.ceil(cx + 2); x++) {
        if (x < 0 || y < 0 || x >= width || y >= height) continue;
        const ink = Math.min(1, Math.max(0, 1.6 - Math.hypot(x - cx, y - cy)));
        drawn[y * width + x] = Math.max(drawn[y * width + x], ink);
      }
    }
    drawSketch();
  }
  sketch.addEventListener("pointerdown", paint);
  sketch.addEventListener("pointermove", paint);
  clear.addEventListener("click", () => {
    drawn.fill(0);
    drawSketch();
  });
  encodeButton.addEventListener("click", async () => {
    const { mu, logVar } = await encode(sketchPixels(), label);
    choose({ mu, logVar, source: "your drawing" });
  });
  window.vaeExplorer.drawing = () => Array.from(drawn);
  const drawing = element("div", { class: "explorer-controls" });
  drawing.append(sketch, encodeButton, clear);
  drawSketch();

  // --- test images, and the line between two
  const gallery = element("div", { class: "explorer-gallery" });
  const pickA = element("select", { id: "explorer-a", "aria-label": "first image" });
  const pickB = element("select", { id: "explorer-b", "aria-label": "second image" });
  examples.images.forEach((pixels, i) => {
    const canvas = element("canvas", { width: shape[2] * 2, height: shape[1] * 2, title: `test image ${examples.test_indices[i]}`, class: "explorer-example", "data-index": i });
    draw(canvas, pixels, shape);
    canvas.addEventListener("click", () => startFrom(i));
    gallery.append(canvas);
    const name = meta.classes ? `test image ${examples.test_indices[i]} (${meta.classes[examples.labels[i]]})` : `test image ${examples.test_indices[i]}`;
    pickA.append(element("option", { value: i }, name));
    pickB.append(element("option", { value: i }, name));
  });
  pickB.value = String(Math.min(1, examples.images.length - 1));
  const rows = meta.classes ? 2 : 1; // a conditional model: the line under each image's class
  const lines = Array.from({ length: rows }, (_, r) => {
    const line = element("div", { class: "explorer-line", "data-row": r });
    const canvases = Array.from({ length: 10 }, () => element("canvas", { width: shape[2] * 2, height: shape[1] * 2 }));
    const caption = element("span", { class: "explorer-caption" });
    line.append(caption, ...canvases);
    return { line, canvases, caption };
  });
  const interpolate = element("button", { type: "button", id: "explorer-interpolate" }, "interpolate");
  interpolate.addEventListener("click", drawLine);
  const interpolation = element("div", { class: "explorer-controls" });
  interpolation.append(pickA, pickB, interpolate);

  root.replaceChildren(
    status,
    widget,
    element("h3", {}, "Draw an image"),
    element("p", {}, "Draw with the mouse (or a finger), then encode it: the package's encoder, run here, gives its posterior q(z | x)" + (meta.classes ? " for the class chosen above" : "") + "; z is set to its mean."),
    drawing,
    element("h3", {}, "Start from a test image"),
    element("p", {}, "Click an image to set z to the mean of its posterior, computed by the package's encoder when the run was exported" + (meta.classes ? ", and the class to its label." : ".")),
    gallery,
    element("h3", {}, "Interpolate between two test images"),
    element("p", {}, "Ten decodings of z = (1 − t) μ₁ + t μ₂, t = 0 … 1" + (meta.classes ? ": the class is not a code, so the first row keeps the first image's class and the second the second's." : ".")),
    interpolation,
    ...lines.map((l) => l.line),
  );
  status.textContent = `Showing: a ${latent}-dimensional latent space, ${meta.classes ? meta.classes.length + " classes, " : ""}encoder and decoder from ${meta.run.split("/").slice(-2).join("/")} (${meta.checkpoint}).`;

  function gaussian() {
    const u = 1 - Math.random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * Math.random());
  }

  function setZ(values) {
    values.forEach((v, d) => (z[d] = Math.max(-LIMIT, Math.min(LIMIT, v))));
    update();
  }

  function choose(chosen) {
    posterior = chosen;
    fromPosterior.removeAttribute("disabled");
    const sd = (d) => Math.exp(0.5 * chosen.logVar[d]).toFixed(2);
    where.textContent = `The posterior of ${chosen.source}: μ = (${chosen.mu.map((m) => m.toFixed(2)).join(", ")}), σ = (${chosen.mu.map((_, d) => sd(d)).join(", ")}).`;
    setZ(chosen.mu);
  }

  function startFrom(i) {
    if (meta.classes) {
      label = examples.labels[i];
      select.value = String(label);
    }
    choose({ mu: examples.mu[i], logVar: examples.log_var[i], source: `test image ${examples.test_indices[i]}` });
  }

  let pending = false;
  async function update() {
    inputs.forEach(([input, value], d) => {
      input.value = z[d];
      value.textContent = z[d].toFixed(2);
    });
    drawPad();
    if (pending) return; // one decode in flight at a time; the latest z is drawn after it
    pending = true;
    try {
      let shown;
      do {
        shown = z.slice();
        draw(output, await decode(shown, label), shape);
      } while (shown.some((v, d) => v !== z[d]));
    } finally {
      pending = false;
    }
    root.dataset.decoded = String(Number(root.dataset.decoded || 0) + 1);
  }

  function drawPad() {
    const context = pad.getContext("2d");
    const toX = (v) => ((v + LIMIT) / (2 * LIMIT)) * pad.width;
    const toY = (v) => pad.height - ((v + LIMIT) / (2 * LIMIT)) * pad.height;
    context.imageSmoothingEnabled = true;
    context.drawImage(shadeOf(shading.value), 0, 0, pad.width, pad.height);
    context.strokeStyle = "#999";
    context.lineWidth = 1;
    context.beginPath();
    context.moveTo(pad.width / 2, 0);
    context.lineTo(pad.width / 2, pad.height);
    context.moveTo(0, pad.height / 2);
    context.lineTo(pad.width, pad.height / 2);
    context.stroke();
    if (showCodes.checked) {
      codes.mu.forEach((mu, n) => {
        context.fillStyle = COLOURS[(codes.labels[n] ?? 0) % COLOURS.length];
        context.fillRect(toX(mu[padX]) - 1, toY(mu[padY]) - 1, 2, 2);
      });
    }
    if (posterior) {
      const rx = (Math.exp(0.5 * posterior.logVar[padX]) / (2 * LIMIT)) * pad.width;
      const ry = (Math.exp(0.5 * posterior.logVar[padY]) / (2 * LIMIT)) * pad.height;
      context.strokeStyle = "#000";
      context.lineWidth = 1.5;
      context.beginPath();
      context.ellipse(toX(posterior.mu[padX]), toY(posterior.mu[padY]), Math.max(rx, 1), Math.max(ry, 1), 0, 0, 2 * Math.PI);
      context.stroke();
    }
    context.fillStyle = "#c0392b";
    context.beginPath();
    context.arc(toX(z[padX]), toY(z[padY]), 5, 0, 2 * Math.PI);
    context.fill();
  }

  function padMove(event) {
    if (event.type !== "pointerdown" && !(event.buttons & 1)) return;
    const box = pad.getBoundingClientRect();
    z[padX] = ((event.clientX - box.left) / box.width) * 2 * LIMIT - LIMIT;
    if (padY !== padX) z[padY] = LIMIT - ((event.clientY - box.top) / box.height) * 2 * LIMIT;
    setZ(z);
  }
  pad.addEventListener("pointerdown", padMove);
  pad.addEventListener("pointermove", padMove);

  async function drawLine() {
    const ends = [Number(pickA.value), Number(pickB.value)];
    const [a, b] = ends.map((i) => examples.mu[i]);
    for (const [r, { canvases, caption }] of lines.entries()) {
      const c = meta.classes ? examples.labels[ends[r]] : 0;
      caption.textContent = meta.classes ? `class ${meta.classes[c]}` : "";
      for (let k = 0; k < 10; k++) {
        const t = k / 9;
        draw(canvases[k], await decode(a.map((v, d) => (1 - t) * v + t * b[d]), c), shape);
      }
    }
    root.dataset.lines = String(Number(root.dataset.lines || 0) + 1);
  }

  await update();
  await drawLine();
}

window.vaeExplorer = {};
window.vaeExplorer.ready = main();
window.vaeExplorer.ready.catch((error) => {
  if (!window.vaeExplorer.error) {
    status.textContent = `The explorer failed: ${error.message || error}`;
    status.classList.add("explorer-error");
    window.vaeExplorer.error = status.textContent;
  }
});
