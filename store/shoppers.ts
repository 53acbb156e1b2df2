import type { Models } from './models';
import { shopperIdFor, type ShopperDoc } from './models/people';

/**
 * The shopper with this openid: a point read of the id derived from it (every shopper signed up since ids
 * were derived), else a read by the field (shoppers created before, or seeded with ids of their own).
 */
export async function findShopperByOpenid(models: Pick<Models, 'Shopper'>, openid: string, projection?: Record<string, 1>): Promise<ShopperDoc | null> {
  const derived = await models.Shopper.findOne({ _id: shopperIdFor(openid) }, projection && { ...projection, openid: 1 }).lean<ShopperDoc>();
  if (derived && derived.openid === openid) return derived;
  return models.Shopper.findOne({ openid }, projection).lean<ShopperDoc>();
}
