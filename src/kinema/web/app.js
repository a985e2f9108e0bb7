// kinema playground: one page on the public Kling API (/v1/videos/image2video), no build step.
"use strict";

const API = "/v1/videos/image2video";
const AXES = ["horizontal", "vertical", "pan", "tilt", "roll", "zoom"];
const $ = (sel) => document.querySelector(sel);

const state = {
  image: null, // {b64, img, w, h}
  tail: null, // {b64}
  model: "kinema-motion", mode: "std", duration: 5, control: "none",
  preset: "simple", camera: Object.fromEntries(AXES.map((a) => [a, 0])),
  region: 0, tool: "paint", brush: 40,
  // 0-5: moving regions, 6: static brush; each {canvas, painted, path: [[x, y] in image px, top-left]}
  regions: [],
  profiles: {},
  tasks: new Map(), // task id -> {el, prompt}
  pollTimer: null,
};

// ---- API --------------------------------------------------------------------------------
function headers() {
  const key = $("#api-key").value.trim();
  const h = { "Content-Type": "application/json" };
  if (key) h.Authorization = `Bearer ${key}`;
  return h;
}

async function api(path, options = {}) {
  let res;
  try {
    res = await fetch(path, { ...options, headers: headers() });
  } catch (e) {
    throw new Error(`could not reach the server (${e.message})`);
  }
  let body = null;
  try { body = await res.json(); } catch (e) { /* not JSON */ }
  if (res.ok && body && body.code === 0) return body.data;
  const code = body && body.code ? body.code : res.status;
  const err = new Error(`Error ${code}: ${(body && body.message) || res.statusText}`);
  err.code = code;
  err.status = res.status;
  if (res.status === 401) needKey(true);
  throw err;
}

function needKey(on) {
  $("#key-box").classList.toggle("need", on);
  $("#tasks-note").textContent = on ? "enter the API key above" : "";
}

// ---- images -----------------------------------------------------------------------------
function readImage(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onerror = () => reject(new Error("could not read the file"));
    reader.onload = () => {
      const img = new Image();
      img.onerror = () => reject(new Error(`${file.name} is not an image the browser can open`));
      img.onload = () => {
        let url = reader.result;
        if (!/^data:image\/(png|jpeg);/.test(url)) { // Kling takes JPEG or PNG: convert others
          const c = document.createElement("canvas");
          c.width = img.naturalWidth; c.height = img.naturalHeight;
          c.getContext("2d").drawImage(img, 0, 0);
          url = c.toDataURL("image/png");
        }
        resolve({ b64: url.split(",")[1], img, w: img.naturalWidth, h: img.naturalHeight, url });
      };
      img.src = reader.result;
    };
    reader.readAsDataURL(file);
  });
}

async function setImage(file) {
  if (!file) return;
  try {
    state.image = await readImage(file);
  } catch (e) { return showError(e.message); }
  const { w, h } = state.image;
  const stage = $("#stage");
  stage.width = w; stage.height = h;
  stage.hidden = false;
  $("#drop").hidden = true;
  state.regions = [...Array(7)].map(() => newRegion(w, h));
  state.brush = Math.max(4, Math.round(Math.max(w, h) / 24));
  $("#brush-size").max = String(Math.max(200, Math.round(Math.max(w, h) / 4)));
  $("#brush-size").value = String(state.brush);
  const small = Math.min(w, h) < 300 ? " (too small: sides must be at least 300 px)" : "";
  $("#image-info").textContent = `${file.name}: ${w}×${h}${small}`;
  showError("");
  renderRegions();
  draw();
}

// ---- the motion brush lives in brush.js; the task list in tasks.js ----

// ---- camera ---------------------------------------------------------------------------------
function buildSliders() {
  const box = $("#sliders");
  AXES.forEach((axis) => {
    const row = document.createElement("label");
    row.className = "slider";
    row.innerHTML = `<span>${axis}</span><input type="range" id="cam-${axis}" min="-10" max="10" step="0.5" value="0">` +
      `<output id="cam-${axis}-value">0</output>`;
    box.appendChild(row);
    row.querySelector("input").addEventListener("input", (ev) => setAxis(axis, Number(ev.target.value)));
  });
}

function setAxis(axis, value) {
  AXES.forEach((a) => { state.camera[a] = a === axis ? value : 0; }); // only one non-zero axis
  AXES.forEach((a) => {
    $(`#cam-${a}`).value = String(state.camera[a]);
    $(`#cam-${a}-value`).textContent = String(state.camera[a]);
    $(`#cam-${a}`).parentElement.classList.toggle("active", state.camera[a] !== 0);
  });
}

function cameraControl() {
  if (state.preset !== "simple") return { type: state.preset };
  if (!AXES.some((a) => state.camera[a] !== 0)) throw new Error("move one camera slider, or pick a preset");
  return { type: "simple", config: { ...state.camera } };
}

// ---- models and capability hints --------------------------------------------------------------
async function loadModels() {
  let models;
  try {
    const res = await fetch("/v1/models");
    models = (await res.json()).data || [];
  } catch (e) { return; }
  const select = $("#model");
  select.innerHTML = "";
  models.forEach((m) => {
    state.profiles[m.model] = m;
    const o = document.createElement("option");
    o.value = o.textContent = m.model;
    select.appendChild(o);
  });
  if (!state.profiles[state.model] && models.length) state.model = models[0].model;
  select.value = state.model;
  updateCaps();
}

const CONTROL_NAMES = { camera: "camera", brush: "motion_brush", tail: "end_frame" };

function updateCaps() {
  const p = state.profiles[state.model];
  document.querySelectorAll("#mode-seg button").forEach((b) => {
    b.disabled = !!p && !p.modes.includes(b.dataset.mode);
  });
  if (p && !p.modes.includes(state.mode)) pick("#mode-seg", "mode", p.modes[0]);
  let note = "";
  const control = CONTROL_NAMES[state.control];
  if (p && control) {
    const durations = ((p.controls[state.mode] || {})[control]) || [];
    if (!durations.includes(state.duration)) {
      note = `${state.model} in ${state.mode} at ${state.duration} s does not take this control`;
    }
  }
  $("#cap-note").textContent = note;
}

function pick(segSel, key, value) {
  state[key] = key === "duration" ? Number(value) : value;
  document.querySelectorAll(`${segSel} button`).forEach((b) => {
    b.classList.toggle("on", b.dataset[key] === String(value));
  });
}

// ---- submit -------------------------------------------------------------------------------
function buildBody() {
  if (!state.image) throw new Error("choose a start frame first");
  const body = {
    model_name: state.model, mode: state.mode, duration: String(state.duration),
    prompt: $("#prompt").value, image: state.image.b64,
  };
  const negative = $("#negative").value.trim();
  if (negative) body.negative_prompt = negative;
  if (state.control === "camera") body.camera_control = cameraControl();
  if (state.control === "tail") {
    if (!state.tail) throw new Error("choose an end frame, or pick another control");
    body.image_tail = state.tail.b64;
  }
  if (state.control === "brush") {
    const masks = [];
    state.regions.slice(0, STATIC).forEach((r, i) => {
      if (r.painted && r.path.length < 2) throw new Error(`region ${i + 1} needs a trajectory`);
      if (!r.painted && r.path.length) throw new Error(`region ${i + 1} has a trajectory but no painted area`);
      if (r.painted) masks.push({ mask: maskB64(r), trajectories: trajectory(r.path, state.image.h) });
    });
    const still = state.regions[STATIC];
    if (!masks.length && !still.painted) throw new Error("paint a region and draw its trajectory");
    if (masks.length) body.dynamic_masks = masks;
    if (still.painted) body.static_mask = maskB64(still);
  }
  return body;
}

async function submit() {
  showError("");
  let body;
  try { body = buildBody(); } catch (e) { return showError(e.message); }
  const button = $("#submit");
  button.disabled = true;
  button.textContent = "Submitting…";
  try {
    const task = await api(API, { method: "POST", body: JSON.stringify(body) });
    remember(task.task_id, body.prompt || "(no prompt)", describe(body));
    upsertTask(task);
    schedulePoll(300);
  } catch (e) {
    showError(e.message);
  } finally {
    button.disabled = false;
    button.textContent = "Generate video";
  }
}

function describe(body) {
  const bits = [body.model_name, body.mode, `${body.duration} s`];
  if (body.camera_control) {
    const c = body.camera_control;
    const axis = c.config ? AXES.find((a) => c.config[a]) : null;
    bits.push(axis ? `camera ${axis} ${c.config[axis]}` : `camera ${c.type}`);
  }
  if (body.dynamic_masks) bits.push(`${body.dynamic_masks.length} brush region(s)`);
  if (body.static_mask) bits.push("static brush");
  if (body.image_tail) bits.push("end frame");
  return bits.join(" · ");
}

function showError(message) {
  $("#error").textContent = message;
  $("#error").hidden = !message;
}

// ---- wiring -----------------------------------------------------------------------------------
function wire() {
  const key = $("#api-key");
  key.value = localStorage.getItem("kinema.key") || "";
  key.addEventListener("change", () => { localStorage.setItem("kinema.key", key.value.trim()); schedulePoll(0); });

  $("#image-input").addEventListener("change", (ev) => setImage(ev.target.files[0]));
  const wrap = $("#stage-wrap");
  wrap.addEventListener("dragover", (ev) => { ev.preventDefault(); wrap.classList.add("dragover"); });
  wrap.addEventListener("dragleave", () => wrap.classList.remove("dragover"));
  wrap.addEventListener("drop", (ev) => {
    ev.preventDefault();
    wrap.classList.remove("dragover");
    setImage(ev.dataTransfer.files[0]);
  });

  $("#tail-input").addEventListener("change", async (ev) => {
    const file = ev.target.files[0];
    if (!file) return;
    try { state.tail = await readImage(file); } catch (e) { return showError(e.message); }
    $("#tail-info").textContent = `${file.name}: ${state.tail.w}×${state.tail.h}`;
    $("#tail-preview").src = state.tail.url;
    $("#tail-preview").hidden = $("#clear-tail").hidden = false;
  });
  $("#clear-tail").addEventListener("click", () => {
    state.tail = null;
    $("#tail-input").value = "";
    $("#tail-info").textContent = "optional: the video ends on this frame";
    $("#tail-preview").hidden = $("#clear-tail").hidden = true;
  });

  $("#model").addEventListener("change", (ev) => { state.model = ev.target.value; updateCaps(); });
  document.querySelectorAll("#mode-seg button").forEach((b) =>
    b.addEventListener("click", () => { pick("#mode-seg", "mode", b.dataset.mode); updateCaps(); }));
  document.querySelectorAll("#duration-seg button").forEach((b) =>
    b.addEventListener("click", () => { pick("#duration-seg", "duration", b.dataset.duration); updateCaps(); }));
  document.querySelectorAll("#control-tabs button").forEach((b) => b.addEventListener("click", () => {
    state.control = b.dataset.control;
    document.querySelectorAll("#control-tabs button").forEach((x) => x.classList.toggle("on", x === b));
    document.querySelectorAll(".panel").forEach((p) => { p.hidden = p.dataset.panel !== state.control; });
    updateCaps();
    draw();
  }));
  document.querySelectorAll("#presets button").forEach((b) => b.addEventListener("click", () => {
    state.preset = b.dataset.preset;
    document.querySelectorAll("#presets button").forEach((x) => x.classList.toggle("on", x === b));
    $("#sliders").classList.toggle("off", state.preset !== "simple");
  }));
  document.querySelectorAll("#tool-seg button").forEach((b) => b.addEventListener("click", () => {
    pick("#tool-seg", "tool", b.dataset.tool);
    draw();
  }));
  $("#brush-size").addEventListener("input", (ev) => { state.brush = Number(ev.target.value); draw(); });
  $("#clear-region").addEventListener("click", () => {
    if (!state.image) return;
    state.regions[state.region] = newRegion(state.image.w, state.image.h);
    renderRegions();
    draw();
  });

  const stage = $("#stage");
  stage.addEventListener("pointerdown", onDown);
  stage.addEventListener("pointermove", onMove);
  stage.addEventListener("pointerup", onUp);
  stage.addEventListener("pointercancel", onUp);
  stage.addEventListener("pointerleave", () => { pointer = null; draw(); });
  $("#submit").addEventListener("click", submit);
}

buildSliders();
wire();
state.regions = [...Array(7)].map(() => newRegion(1, 1));
renderRegions();
loadModels();
poll();
