import type { CabinetSpec, Lane, Packaging, ProductSpec } from './domain';

/**
 * The demo catalogue: brand families whose flavours share a package and differ by accent colour and text —
 * the look-alikes that make recognition hard. Prices are integer fen.
 */
interface Family {
  code: string;
  brand: string;
  brandEn: string;
  packaging: Packaging;
  colour: string;
  flavours: Array<[code: string, zh: string, en: string, accent: string, priceFen: number]>;
}

const FAMILIES: Family[] = [
  { code: 'COLA', brand: '可口', brandEn: 'Koko', packaging: 'can', colour: '#c8102e', flavours: [
    ['ORIG', '经典', 'Classic', '#ffffff', 350], ['ZERO', '零度', 'Zero', '#111111', 350], ['LEMON', '柠檬', 'Lemon', '#f2d000', 380]] },
  { code: 'SODA', brand: '雪碧思', brandEn: 'Spryte', packaging: 'can', colour: '#0a8a3a', flavours: [
    ['LIME', '青柠', 'Lime', '#c6f000', 350], ['PEACH', '蜜桃', 'Peach', '#ff9a76', 380]] },
  { code: 'TEA', brand: '东方茶', brandEn: 'Oriental Tea', packaging: 'bottle', colour: '#2f6b3f', flavours: [
    ['GREEN', '绿茶', 'Green tea', '#9bd37a', 500], ['OOLONG', '乌龙', 'Oolong', '#b5651d', 500], ['JASMINE', '茉莉', 'Jasmine', '#f5f0c8', 500]] },
  { code: 'WATER', brand: '山泉', brandEn: 'Spring', packaging: 'bottle', colour: '#3aa0e0', flavours: [
    ['PLAIN', '饮用水', 'Water', '#ffffff', 200], ['SPARK', '气泡水', 'Sparkling', '#c0e8ff', 450]] },
  { code: 'JUICE', brand: '果园', brandEn: 'Orchard', packaging: 'box', colour: '#f08c00', flavours: [
    ['ORANGE', '橙汁', 'Orange', '#ff6a00', 450], ['APPLE', '苹果', 'Apple', '#d40000', 450], ['GRAPE', '葡萄', 'Grape', '#6a1b9a', 480]] },
  { code: 'MILK', brand: '牧场', brandEn: 'Pasture', packaging: 'box', colour: '#f4f4f4', flavours: [
    ['PLAIN', '纯牛奶', 'Whole milk', '#1e64c8', 400], ['CHOC', '巧克力', 'Chocolate', '#5d3a1a', 450], ['STRAW', '草莓', 'Strawberry', '#ff6f91', 450]] },
  { code: 'CHIP', brand: '脆脆', brandEn: 'Crispy', packaging: 'bag', colour: '#ffd100', flavours: [
    ['SALT', '原味', 'Salted', '#e31837', 600], ['BBQ', '烧烤', 'Barbecue', '#7b2d00', 600], ['CUKE', '黄瓜', 'Cucumber', '#2e8b57', 600], ['SEAWEED', '海苔', 'Seaweed', '#0b3d20', 650]] },
  { code: 'NUTS', brand: '坚果仓', brandEn: 'Nut Barn', packaging: 'bag', colour: '#8b5a2b', flavours: [
    ['MIX', '每日坚果', 'Daily mix', '#f2c14e', 890], ['CASHEW', '腰果', 'Cashew', '#fff2cc', 990]] },
  { code: 'BISC', brand: '饼屋', brandEn: 'Biscuit House', packaging: 'box', colour: '#1d3c8f', flavours: [
    ['CREAM', '奶油', 'Cream', '#fff8e1', 550], ['CHOC', '巧克力', 'Chocolate', '#5d3a1a', 550], ['MATCHA', '抹茶', 'Matcha', '#7cb342', 580]] },
  { code: 'CHOCO', brand: '可可乐园', brandEn: 'Cocoa Park', packaging: 'bag', colour: '#4e2a1e', flavours: [
    ['MILK', '牛奶', 'Milk', '#d7b899', 700], ['DARK', '黑巧', 'Dark', '#1a0f0a', 750]] },
  { code: 'NOOD', brand: '面面', brandEn: 'Noodle Box', packaging: 'box', colour: '#d62828', flavours: [
    ['BEEF', '红烧牛肉', 'Braised beef', '#7f0000', 650], ['SPICY', '香辣', 'Spicy', '#ff4500', 650]] },
  { code: 'COFF', brand: '晨咖', brandEn: 'Morning Brew', packaging: 'can', colour: '#3b2416', flavours: [
    ['LATTE', '拿铁', 'Latte', '#e6ccb2', 600], ['BLACK', '美式', 'Americano', '#000000', 600], ['MOCHA', '摩卡', 'Mocha', '#8b4513', 650]] },
  { code: 'YOG', brand: '酸奶坊', brandEn: 'Yoghurt Lab', packaging: 'bottle', colour: '#fafafa', flavours: [
    ['PLAIN', '原味', 'Plain', '#4aa3df', 550], ['BLUE', '蓝莓', 'Blueberry', '#3f51b5', 600]] },
  { code: 'GUM', brand: '清新', brandEn: 'Fresh', packaging: 'box', colour: '#00a3a1', flavours: [
    ['MINT', '薄荷', 'Mint', '#b2fff4', 300], ['BERRY', '莓果', 'Berry', '#c2185b', 300]] },
];

export const DEMO_CATALOGUE: ProductSpec[] = FAMILIES.flatMap((f) =>
  f.flavours.map(([code, zh, en, accent, priceFen]) => ({
    sku: `${f.code}-${code}`,
    name: `${f.brand}${zh}`,
    nameEn: `${f.brandEn} ${en}`,
    brand: f.brand,
    flavour: zh,
    packaging: f.packaging,
    priceFen,
    colour: f.colour,
    accent,
  })),
);

/** Lays SKUs out over rows A.. with `perRow` lanes each, starting from an offset so cabinets differ. */
function planogram(skus: string[], rows: number, perRow: number, offset: number, capacity: number): Lane[] {
  const lanes: Lane[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < perRow; c++) {
      const sku = skus[(offset + r * perRow + c) % skus.length] as string;
      lanes.push({ laneId: `${String.fromCharCode(65 + r)}${c + 1}`, sku, capacity, count: capacity });
    }
  }
  return lanes;
}

const ALL_SKUS = DEMO_CATALOGUE.map((p) => p.sku);

/** Two sites; each has all three kinds of cabinet, as during the batch replacement of old cabinets. */
export const DEMO_FLEET: CabinetSpec[] = [
  { cabinetId: 'SH-OPEN-01', name: '上海 8F 茶水间开放货架', kind: 'open', siteId: 'shanghai-hq', cameras: [], lanes: planogram(ALL_SKUS, 2, 4, 0, 10) },
  { cabinetId: 'SH-SEMI-01', name: '上海 8F 半自动柜', kind: 'semi', siteId: 'shanghai-hq', cameras: ['top', 'side'], lanes: planogram(ALL_SKUS, 4, 4, 3, 6) },
  { cabinetId: 'SH-AUTO-01', name: '上海 12F 全自动柜', kind: 'auto', siteId: 'shanghai-hq', cameras: ['top', 'side'], lanes: planogram(ALL_SKUS, 4, 4, 7, 6) },
  { cabinetId: 'SH-AUTO-02', name: '上海 15F 全自动柜', kind: 'auto', siteId: 'shanghai-hq', cameras: ['top', 'side'], lanes: planogram(ALL_SKUS, 4, 4, 11, 6) },
  { cabinetId: 'BJ-OPEN-01', name: '北京 3F 开放货架', kind: 'open', siteId: 'beijing-office', cameras: [], lanes: planogram(ALL_SKUS, 2, 4, 5, 10) },
  { cabinetId: 'BJ-SEMI-01', name: '北京 3F 半自动柜', kind: 'semi', siteId: 'beijing-office', cameras: ['top', 'side'], lanes: planogram(ALL_SKUS, 4, 4, 13, 6) },
  { cabinetId: 'BJ-AUTO-01', name: '北京 5F 全自动柜', kind: 'auto', siteId: 'beijing-office', cameras: ['top', 'side'], lanes: planogram(ALL_SKUS, 4, 4, 19, 6) },
];
