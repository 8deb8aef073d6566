// The latent-space explorer: a VAE's decoder (decoder.onnx, written by `vae export`)
// run in the browser by onnxruntime-web, which the site serves itself.
//
// The page holds <div id="vae-explorer" data-model="FOLDER/">; FOLDER has decoder.onnx,
// export.json (latent size, image shape, classes, KL per dimension) and examples.json
// (test images with their posteriors from the package's encoder). ?model=FOLDER/ in the
// page's address loads another export. window.vaeExplorer.decode(z, label) returns the
// decoded image E[x|z] as a Float32Array (C*H*W), for tests and the curious.
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

// One session runs one inference at a time: calls wait in this queue.
let queue = Promise.resolve();

function makeDecoder(session, meta) {
  const latent = meta.latent_dim;
  return (z, label) => {
    const run = queue.then(async () => {
      const feeds = { z: new ort.Tensor("float32", Float32Array.from(z), [1, latent]) };
      if (meta.classes) feeds.labels = new ort.Tensor("int64", BigInt64Array.from([BigInt(label)]), [1]);
      const out = await session.run(feeds);
      return out.mean.data;
    });
    queue = run.catch(() => {});
    return run;
  };
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

function shadePrior(canvas) {
  // the standard normal's density over [-3, 3]^2: darker where the prior puts more mass
  const context = canvas.getContext("2d");
  const { width, height } = canvas;
  const image = context.createImageData(width, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = (x / width) * 2 * LIMIT - LIMIT;
      const v = LIMIT - (y / height) * 2 * LIMIT;
      const density = Math.exp(-(u * u + v * v) / 2); // relative to its peak
      const i = 4 * (y * width + x);
      image.data[i] = image.data[i + 1] = 255 - Math.round(110 * density);
      image.data[i + 2] = 255 - Math.round(40 * density);
      image.data[i + 3] = 255;
    }
  }
  return image;
}

async function main() {
  const folder = new URLSearchParams(location.search).get("model") || root.dataset.model;
  const base = new URL(folder, location.href);
  const meta = await fetchJson(new URL("export.json", base));
  const examples = await fetchJson(new URL("examples.json", base));
  if (!Number.isInteger(meta.latent_dim) || !Array.isArray(meta.image_shape)) {
    fail(`${new URL("export.json", base)} does not describe a model (no latent_dim or image_shape): export the run again with this version of the package.`);
  }
  let session;
  try {
    session = await ort.InferenceSession.create(new URL("decoder.onnx", base).href);
  } catch (error) {
    fail(`The decoder ${new URL("decoder.onnx", base)} could not be loaded (${error.message || error}): the file is missing or corrupt; export the run again.`);
  }
  const decode = makeDecoder(session, meta);
  window.vaeExplorer.decode = decode;
  window.vaeExplorer.meta = meta;

  const latent = meta.latent_dim;
  const shape = meta.image_shape;
  const [padX, padY] = meta.dims_by_kl.length > 1 ? meta.dims_by_kl : [0, 0];
  const z = new Array(latent).fill(0);
  let label = 0;

  // --- the layout
  const output = element("canvas", { id: "explorer-image", width: shape[2] * SCALE, height: shape[1] * SCALE, "aria-label": "the decoded image" });
  const pad = element("canvas", { id: "explorer-pad", width: 240, height: 240, "aria-label": `latent dimensions ${padX} and ${padY}` });
  const padShade = shadePrior(pad);
  const sliders = element("div", { class: "explorer-sliders" });
  const inputs = [];
  for (let d = 0; d < latent; d++) {
    const row = element("label", { class: "explorer-slider" });
    const kl = meta.kl_per_dim[d];
    const name = element("span", {}, `z${d}`);
    const input = element("input", { type: "range", min: -LIMIT, max: LIMIT, step: 0.01, value: 0, "data-dim": d });
    const value = element("output", {}, "0.00");
    const info = element("span", { class: "explorer-kl" }, `KL ${kl.toFixed(2)}`);
    input.addEventListener("input", () => {
      z[d] = Number(input.value);
      update();
    });
    row.append(name, input, value, info);
    sliders.append(row);
    inputs.push([input, value]);
  }
  const controls = element("div", { class: "explorer-controls" });
  if (meta.classes) {
    const select = element("select", { id: "explorer-class", "aria-label": "the class" });
    meta.classes.forEach((name, i) => select.append(element("option", { value: i }, `class ${name}`)));
    select.addEventListener("change", () => {
      label = Number(select.value);
      update();
    });
    controls.append(element("label", {}, "Class: "), select);
  }
  const reset = element("button", { type: "button" }, "z = 0");
  reset.addEventListener("click", () => setZ(new Array(latent).fill(0)));
  const draw_ = element("button", { type: "button" }, "sample z ~ N(0, I)");
  draw_.addEventListener("click", () => setZ(z.map(() => gaussian())));
  controls.append(reset, draw_);

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
  const line = element("div", { class: "explorer-line" });
  const lineCanvases = Array.from({ length: 10 }, () => element("canvas", { width: shape[2] * 2, height: shape[1] * 2 }));
  line.append(...lineCanvases);
  const interpolate = element("button", { type: "button", id: "explorer-interpolate" }, "interpolate");
  interpolate.addEventListener("click", drawLine);

  const main = element("div", { class: "explorer-main" });
  const interpolation = element("div", { class: "explorer-controls" });
  interpolation.append(pickA, pickB, interpolate);
  root.replaceChildren(
    status,
    main,
    element("h3", {}, "Start from a test image"),
    element("p", {}, "Click an image to set z to the mean of its posterior, computed by the package's encoder when the run was exported" + (meta.classes ? ", and the class to its label." : ".")),
    gallery,
    element("h3", {}, "Interpolate between two test images"),
    element("p", {}, "Ten decodings of z = (1 − t) μ₁ + t μ₂, t = 0 … 1" + (meta.classes ? ", with the class of the first image." : ".")),
    interpolation,
    line,
  );
  const left = element("div", {});
  left.append(output, controls);
  const right = element("div", {});
  right.append(
    element("p", { class: "explorer-caption" }, `The pad: dimensions z${padX} (across) and z${padY} (up), the two with the largest KL, over [−3, 3]²; the shading is the prior's density.`),
    pad,
    sliders,
  );
  main.append(left, right);
  status.textContent = `Showing: a ${latent}-dimensional latent space, ${meta.classes ? meta.classes.length + " classes, " : ""}decoder from ${meta.run.split("/").slice(-2).join("/")} (${meta.checkpoint}).`;

  function gaussian() {
    const u = 1 - Math.random();
    return Math.max(-LIMIT, Math.min(LIMIT, Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * Math.random())));
  }

  function setZ(values) {
    values.forEach((v, d) => (z[d] = Math.max(-LIMIT, Math.min(LIMIT, v))));
    update();
  }

  function startFrom(i) {
    if (meta.classes) {
      label = examples.labels[i];
      document.getElementById("explorer-class").value = String(label);
    }
    setZ(examples.mu[i]);
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
      let drawn;
      do {
        drawn = z.slice();
        draw(output, await decode(drawn, label), shape);
      } while (drawn.some((v, d) => v !== z[d]));
    } finally {
      pending = false;
    }
    root.dataset.decoded = String(Number(root.dataset.decoded || 0) + 1);
  }

  function drawPad() {
    const context = pad.getContext("2d");
    context.putImageData(padShade, 0, 0);
    const toPixel = (v) => ((v + LIMIT) / (2 * LIMIT)) * pad.width;
    context.strokeStyle = "#999";
    context.beginPath();
    context.moveTo(pad.width / 2, 0);
    context.lineTo(pad.width / 2, pad.height);
    context.moveTo(0, pad.height / 2);
    context.lineTo(pad.width, pad.height / 2);
    context.stroke();
    context.fillStyle = "#c0392b";
    context.beginPath();
    context.arc(toPixel(z[padX]), pad.height - toPixel(z[padY]), 5, 0, 2 * Math.PI);
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
    const a = examples.mu[Number(pickA.value)];
    const b = examples.mu[Number(pickB.value)];
    const c = meta.classes ? examples.labels[Number(pickA.value)] : 0;
    for (let k = 0; k < 10; k++) {
      const t = k / 9;
      draw(lineCanvases[k], await decode(a.map((v, d) => (1 - t) * v + t * b[d]), c), shape);
    }
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
