// kinema playground: the motion brush (regions, trajectories, masks). Loaded before app.js.
"use strict";

const COLORS = ["#ef4444", "#f59e0b", "#10b981", "#3b82f6", "#a855f7", "#ec4899"];
const STATIC = 6; // region index of the static brush
const MAX_POINTS = 77; // Kling's limit per trajectory

function newRegion(w, h) {
  const canvas = document.createElement("canvas");
  canvas.width = w; canvas.height = h;
  return { canvas, painted: false, path: [] };
}

// ---- the stage: image, brush regions, trajectories ----------------------------------------
let pointer = null; // {x, y} in image pixels, for the brush preview

function draw() {
  const stage = $("#stage");
  if (!state.image) return;
  const ctx = stage.getContext("2d");
  ctx.clearRect(0, 0, stage.width, stage.height);
  ctx.drawImage(state.image.img, 0, 0);
  if (state.control !== "brush") return;
  const lw = Math.max(2, Math.round(Math.max(stage.width, stage.height) / 320));
  state.regions.forEach((r, i) => {
    if (!r.painted) return;
    ctx.globalAlpha = i === state.region ? 0.55 : 0.35;
    ctx.drawImage(r.canvas, 0, 0);
    ctx.globalAlpha = 1;
  });
  state.regions.forEach((r, i) => {
    if (r.path.length < 1) return;
    ctx.strokeStyle = "#fff"; ctx.lineWidth = lw * 2.5; ctx.lineJoin = ctx.lineCap = "round";
    strokePath(ctx, r.path);
    ctx.strokeStyle = COLORS[i]; ctx.lineWidth = lw;
    strokePath(ctx, r.path);
    const [ex, ey] = r.path[r.path.length - 1];
    ctx.fillStyle = COLORS[i];
    ctx.beginPath(); ctx.arc(ex, ey, lw * 3, 0, Math.PI * 2); ctx.fill();
  });
  if (pointer && state.tool !== "path") {
    ctx.strokeStyle = "#fff"; ctx.lineWidth = lw;
    ctx.beginPath(); ctx.arc(pointer.x, pointer.y, state.brush / 2, 0, Math.PI * 2); ctx.stroke();
  }
}

function strokePath(ctx, path) {
  ctx.beginPath();
  path.forEach(([x, y], k) => (k ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
  ctx.stroke();
}

function toImage(ev) {
  const stage = $("#stage");
  const rect = stage.getBoundingClientRect();
  const x = ((ev.clientX - rect.left) * stage.width) / rect.width;
  const y = ((ev.clientY - rect.top) * stage.height) / rect.height;
  return { x: Math.max(0, Math.min(stage.width - 1, x)), y: Math.max(0, Math.min(stage.height - 1, y)) };
}

let drawing = null;

function paintTo(p) {
  const r = state.regions[state.region];
  const ctx = r.canvas.getContext("2d");
  ctx.globalCompositeOperation = state.tool === "erase" ? "destination-out" : "source-over";
  ctx.strokeStyle = ctx.fillStyle = state.region === STATIC ? "#9ca3af" : COLORS[state.region];
  ctx.lineWidth = state.brush; ctx.lineCap = ctx.lineJoin = "round";
  ctx.beginPath();
  ctx.moveTo(drawing.last.x, drawing.last.y);
  ctx.lineTo(p.x + 0.01, p.y);
  ctx.stroke();
  ctx.globalCompositeOperation = "source-over";
  if (state.tool === "paint") r.painted = true;
  drawing.last = p;
}

function onDown(ev) {
  if (state.control !== "brush" || !state.image) return;
  ev.preventDefault();
  $("#stage").setPointerCapture(ev.pointerId);
  const p = toImage(ev);
  drawing = { last: p };
  if (state.tool === "path") {
    if (state.region === STATIC) return showError("the static brush has no trajectory");
    state.regions[state.region].path = [[p.x, p.y]];
  } else {
    paintTo(p);
  }
  draw();
}

function onMove(ev) {
  if (state.control !== "brush" || !state.image) return;
  const p = toImage(ev);
  pointer = p;
  if (drawing && state.tool === "path" && state.region !== STATIC) {
    const path = state.regions[state.region].path;
    const [lx, ly] = path[path.length - 1];
    if (Math.hypot(p.x - lx, p.y - ly) >= 2) path.push([p.x, p.y]);
  } else if (drawing) {
    paintTo(p);
  }
  draw();
}

function onUp() {
  if (!drawing) return;
  drawing = null;
  if (state.tool === "erase") state.regions[state.region].painted = hasPaint(state.regions[state.region]);
  renderRegions();
  draw();
}

function hasPaint(region) {
  const { width, height } = region.canvas;
  const data = region.canvas.getContext("2d").getImageData(0, 0, width, height).data;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 127) return true;
  return false;
}

function renderRegions() {
  const box = $("#regions");
  box.innerHTML = "";
  state.regions.forEach((r, i) => {
    const b = document.createElement("button");
    b.type = "button";
    b.dataset.region = String(i);
    b.className = i === state.region ? "on" : "";
    const ready = i === STATIC ? r.painted : r.painted && r.path.length >= 2;
    b.innerHTML = `<span class="dot" style="background:${i === STATIC ? "#9ca3af" : COLORS[i]}"></span>` +
      `${i === STATIC ? "Static" : `Region ${i + 1}`}${ready ? ' <span class="tick">✓</span>' : ""}`;
    b.onclick = () => { state.region = i; renderRegions(); draw(); };
    box.appendChild(b);
  });
}

// A mask as Kling wants it: an opaque PNG at the image's size, white where painted.
function maskB64(region) {
  const { width, height } = region.canvas;
  const c = document.createElement("canvas");
  c.width = width; c.height = height;
  const ctx = c.getContext("2d");
  ctx.drawImage(region.canvas, 0, 0);
  ctx.globalCompositeOperation = "source-in";
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, width, height);
  ctx.globalCompositeOperation = "destination-over";
  ctx.fillStyle = "#000"; ctx.fillRect(0, 0, width, height);
  return c.toDataURL("image/png").split(",")[1];
}

// At most 77 points, evenly picked, in image pixels with the origin at the bottom-left.
function trajectory(path, height) {
  let pts = path;
  if (pts.length > MAX_POINTS) {
    pts = [...Array(MAX_POINTS)].map((_, k) => path[Math.round((k * (path.length - 1)) / (MAX_POINTS - 1))]);
  }
  return pts.map(([x, y]) => ({ x: Math.round(x), y: Math.round(height - y) }));
}
