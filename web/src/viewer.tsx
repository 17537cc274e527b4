import { createContext, useContext } from 'react';

export interface ViewerInfo {
  username: string;
  role: 'admin' | 'member';
  isManagementKey: boolean;
  isInstanceAdmin: boolean;
  /** False for a single sign-on account: no password to change, no two-factor to set up. */
  hasPassword: boolean;
  organization: string;
}

export const ViewerContext = createContext<ViewerInfo | null>(null);

export function useViewer(): ViewerInfo {
  const v = useContext(ViewerContext);
  if (!v) throw new Error('useViewer outside a logged-in page');
  return v;
}

/** Admins write; members read everything but secrets. */
export function useCanEdit(): boolean {
  return useViewer().role === 'admin';
}
