// The fit heat map: colour each vertex of the avatar by the ease (room, cm) of the
// garment zone whose measurement level is nearest to it. The glb's scene extras give the
// height (m) of each level (chest, waist, hip, neck, crotch...), so this needs no
// knowledge of the body model. Girth zones colour a band of the torso around their
// level (the torso blends linearly between chest, waist and hip); the inside-leg length
// colours the legs below the crotch.

/** Colour stops over ease in cm: tight (negative) is red, regular green, loose blue.
 *  The legend's CSS gradient uses the same stops (0%, 20%, 40%, 70%, 100%). */
export const EASE_STOPS = [
  [-8, [0.776, 0.157, 0.157]],
  [-4, [0.941, 0.627, 0.125]],
  [0, [0.227, 0.651, 0.333]],
  [6, [0.353, 0.627, 0.878]],
  [12, [0.184, 0.247, 0.690]],
];
export const SKIN = [0.80, 0.71, 0.63];

/** sRGB colour for an ease in cm (clamped to the scale). */
export function easeColour(easeCm) {
  const x = Math.min(Math.max(easeCm, EASE_STOPS[0][0]), EASE_STOPS[EASE_STOPS.length - 1][0]);
  for (let i = 1; i < EASE_STOPS.length; i += 1) {
    const [x1, c1] = EASE_STOPS[i];
    const [x0, c0] = EASE_STOPS[i - 1];
    if (x <= x1) {
      const t = (x - x0) / (x1 - x0);
      return c0.map((v, k) => v + t * (c1[k] - v));
    }
  }
  return EASE_STOPS[EASE_STOPS.length - 1][1];
}

const GIRTH_LEVEL = { chest: "chest", waist: "waist", hip: "hip", neck: "neck" };

/** The bands one size colours: [{zone, levelM, halfHeightM, halfWidthM, colour}]. */
export function bandsFor(sizeFit, levels) {
  const bands = [];
  for (const zone of sizeFit.zones) {
    const level = GIRTH_LEVEL[zone.zone];
    if (level && typeof levels[level] === "number") {
      // Half the width of a torso of this girth seen from the front (an ellipse with
      // width 1.4 x depth has a half-width of about 0.19 x its perimeter), plus 1 cm.
      const girthM = zone.body_cm / 100;
      bands.push({
        zone: zone.zone,
        levelM: levels[level],
        halfHeightM: zone.zone === "neck" ? 0.035 : 0.07,
        halfWidthM: 0.19 * girthM + 0.01,
        colour: easeColour(zone.ease_cm),
      });
    }
  }
  return bands;
}

function smoothstep(edge0, edge1, x) {
  const t = Math.min(Math.max((x - edge0) / (edge1 - edge0), 0), 1);
  return t * t * (3 - 2 * t);
}

/** Interpolate the torso bands (chest, waist, hip) linearly in height, so the torso is
 *  one continuous gradient between the levels instead of separate stripes. */
function torsoAt(y, torso) {
  if (!torso.length) return null;
  const low = torso[0], high = torso[torso.length - 1];
  if (y < low.levelM - low.halfHeightM || y > high.levelM + high.halfHeightM) return null;
  if (y <= low.levelM) return { band: low, weight: 1 - smoothstep(0.4 * low.halfHeightM, low.halfHeightM, low.levelM - y) };
  if (y >= high.levelM) return { band: high, weight: 1 - smoothstep(0.4 * high.halfHeightM, high.halfHeightM, y - high.levelM) };
  for (let i = 1; i < torso.length; i += 1) {
    const a = torso[i - 1], b = torso[i];
    if (y <= b.levelM) {
      const t = (y - a.levelM) / Math.max(b.levelM - a.levelM, 1e-6);
      return {
        band: {
          halfWidthM: a.halfWidthM + t * (b.halfWidthM - a.halfWidthM),
          colour: a.colour.map((v, k) => v + t * (b.colour[k] - v)),
        },
        weight: 1,
      };
    }
  }
  return null;
}

/**
 * Fill `out` (Float32Array, 3 per vertex, sRGB 0..1) for one size.
 * positions: Float32Array of xyz in metres (Y up, feet at 0).
 */
export function colourVertices(positions, sizeFit, levels, out) {
  const bands = bandsFor(sizeFit, levels);
  const torso = bands.filter((b) => b.zone !== "neck").sort((a, b) => a.levelM - b.levelM);
  const neck = bands.find((b) => b.zone === "neck");
  const inseam = sizeFit.zones.find((z) => z.zone === "inseam");
  const crotch = levels.crotch;
  const legColour = inseam && typeof crotch === "number" ? easeColour(inseam.ease_cm) : null;
  const hipBand = bands.find((b) => b.zone === "hip");
  const legHalfWidth = hipBand ? hipBand.halfWidthM : 0.2;
  for (let i = 0, n = positions.length / 3; i < n; i += 1) {
    const x = Math.abs(positions[3 * i]);
    const y = positions[3 * i + 1];
    let colour = SKIN;
    let weight = 0;
    const hit = torsoAt(y, torso);
    if (hit && x <= hit.band.halfWidthM) {
      colour = hit.band.colour;
      weight = hit.weight;
    } else if (neck && Math.abs(y - neck.levelM) <= neck.halfHeightM && x <= neck.halfWidthM) {
      colour = neck.colour;
      weight = 1 - smoothstep(0.5 * neck.halfHeightM, neck.halfHeightM, Math.abs(y - neck.levelM));
    } else if (legColour && y < crotch - 0.03 && y > 0.1 && x <= legHalfWidth) {
      colour = legColour;
      weight = 1;
    }
    for (let k = 0; k < 3; k += 1) out[3 * i + k] = SKIN[k] + weight * (colour[k] - SKIN[k]);
  }
  return out;
}
