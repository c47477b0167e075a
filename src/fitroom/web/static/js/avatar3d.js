// The shopper's avatar as a three.js mesh: fetch the glb (a stored scan's, or one made
// from measurements), read the measurement levels from its scene extras, and paint the
// fit heat map of one size onto its vertex colours. Shared by "See it on me" and the
// showroom.
import * as THREE from "three";
import { GLTFLoader } from "three/addons/loaders/GLTFLoader.js";
import { request } from "./api.js";
import { colourVertices } from "./heatmap.js";

/** What POST /v1/avatars takes: a scan answer as it is, typed numbers flat. */
export function avatarDocument(body) {
  if (body.model) return body;
  return { sex: body.sex, height_cm: body.height_cm, ...body.measurements };
}

/** The glb bytes of this body's avatar. */
export async function fetchAvatar(body) {
  const response = body.id
    ? await request(`/v1/body-scans/${encodeURIComponent(body.id)}/avatar.glb`)
    : await request("/v1/avatars", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(avatarDocument(body)),
      });
  return response.arrayBuffer();
}

/** {mesh, levels, heightM}: one mesh in metres with a colour per vertex (skin at first). */
export function parseAvatar(arrayBuffer) {
  return new Promise((resolve, reject) => {
    new GLTFLoader().parse(
      arrayBuffer,
      "",
      (gltf) => {
        let source = null;
        gltf.scene.traverse((node) => {
          if (node.isMesh && !source) source = node;
        });
        if (!source) {
          reject(new Error("the avatar file has no mesh"));
          return;
        }
        source.updateWorldMatrix(true, false);
        const geometry = source.geometry.clone().applyMatrix4(source.matrixWorld);
        const count = geometry.attributes.position.count;
        geometry.setAttribute("color", new THREE.BufferAttribute(new Float32Array(count * 3), 3));
        if (!geometry.attributes.normal) geometry.computeVertexNormals();
        geometry.computeBoundingBox();
        const mesh = new THREE.Mesh(geometry, new THREE.MeshStandardMaterial({ vertexColors: true, roughness: 0.85 }));
        const levels = sceneExtras(gltf).level_heights_m || {};
        paintFit(mesh, levels, null);
        resolve({ mesh, levels, heightM: geometry.boundingBox.max.y });
      },
      reject,
    );
  });
}

function sceneExtras(gltf) {
  if (gltf.scene.userData && gltf.scene.userData.level_heights_m) return gltf.scene.userData;
  const json = gltf.parser && gltf.parser.json;
  const scene = json && json.scenes && json.scenes[json.scene || 0];
  return (scene && scene.extras) || {};
}

/** Colour the mesh for one size's fit (`null`: plain skin). */
export function paintFit(mesh, levels, sizeFit) {
  const geometry = mesh.geometry;
  const colours = new Float32Array(geometry.attributes.position.count * 3);
  colourVertices(geometry.attributes.position.array, sizeFit || { zones: [] }, levels, colours);
  const attribute = geometry.attributes.color;
  const c = new THREE.Color();
  for (let i = 0; i < colours.length; i += 3) {
    c.setRGB(colours[i], colours[i + 1], colours[i + 2], THREE.SRGBColorSpace);
    attribute.array[i] = c.r;
    attribute.array[i + 1] = c.g;
    attribute.array[i + 2] = c.b;
  }
  attribute.needsUpdate = true;
}
