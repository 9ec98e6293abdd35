// Reading traveler QR codes: the camera, a picked photo, or a keyboard-wedge scanner that types the
// URL. BarcodeDetector where the browser has it (fast, native), else the vendored jsQR.

const JSQR_URL = new URL("./vendor/jsqr/jsQR.js", import.meta.url).href;
const SCAN_PATH = /\/shop\/(o|j)\/(\d+)\/?(?:[?#].*)?$/;

// `…/shop/o/<id>/` → {operation: id}; `…/shop/j/<id>/` → {job: id}; anything else → null.
export function parseScan(text) {
  const match = SCAN_PATH.exec(String(text || "").trim());
  if (!match) return null;
  const id = Number(match[2]);
  return match[1] === "o" ? { operation: id } : { job: id };
}

// The vendored decoder did not load (offline before it was cached, blocked): the camera may be fine.
export class DecoderUnavailable extends Error {}

let jsqrLoading = null;

function loadJsQR() {
  if (window.jsQR) return Promise.resolve(window.jsQR);
  if (!jsqrLoading) {
    // jsQR ships as a UMD script, not an ES module: a classic script tag defines window.jsQR.
    jsqrLoading = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = JSQR_URL;
      script.onload = () => resolve(window.jsQR);
      script.onerror = () => {
        jsqrLoading = null;
        reject(new DecoderUnavailable("jsQR did not load"));
      };
      document.head.append(script);
    });
  }
  return jsqrLoading;
}

async function nativeDetector() {
  if (!("BarcodeDetector" in window)) return null;
  try {
    const formats = await window.BarcodeDetector.getSupportedFormats();
    return formats.includes("qr_code") ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;
  } catch {
    return null;
  }
}

function pixels(source, width, height) {
  // Big photos are scaled down: a traveler QR stays far above jsQR's minimum size and decoding is quicker.
  const scale = Math.min(1, 1280 / Math.max(width, height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(width * scale));
  canvas.height = Math.max(1, Math.round(height * scale));
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(source, 0, 0, canvas.width, canvas.height);
  return context.getImageData(0, 0, canvas.width, canvas.height);
}

async function decodeSource(source, width, height, detector) {
  if (detector) {
    try {
      const found = await detector.detect(source);
      if (found.length) return found[0].rawValue;
    } catch {
      // Some platforms expose BarcodeDetector but cannot read this source: jsQR below still can.
    }
  }
  let jsQR;
  try {
    jsQR = await loadJsQR();
  } catch (error) {
    // jsQR is the fallback: a native detector that saw no code in this frame may see it in the next.
    if (detector) return null;
    throw error;
  }
  const image = pixels(source, width, height);
  const code = jsQR(image.data, image.width, image.height, { inversionAttempts: "attemptBoth" });
  return code ? code.data : null;
}

export async function decodeFile(file) {
  const bitmap = await createImageBitmap(file);
  try {
    return await decodeSource(bitmap, bitmap.width, bitmap.height, await nativeDetector());
  } finally {
    bitmap.close();
  }
}

// Reads frames from the rear camera into `video` until a QR code is seen or `stop()` is called. The
// camera is released whichever way scanning ends, a failure included: its light must not stay on.
export async function scanCamera(video) {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
  let stopped = false;
  const stop = () => {
    stopped = true;
    stream.getTracks().forEach((track) => track.stop());
    video.srcObject = null;
  };
  let detector;
  try {
    video.srcObject = stream;
    video.setAttribute("playsinline", "");
    await video.play();
    detector = await nativeDetector();
  } catch (error) {
    stop();
    throw error;
  }
  const result = (async () => {
    try {
      while (!stopped) {
        if (video.videoWidth) {
          const text = await decodeSource(video, video.videoWidth, video.videoHeight, detector);
          if (text && parseScan(text)) {
            stop();
            return text;
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      return null;
    } catch (error) {
      stop();
      throw error;
    }
  })();
  return { result, stop };
}
