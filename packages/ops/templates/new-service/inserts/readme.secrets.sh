   kubectl create secret generic __name__-db-owner -n schema-per-service --from-literal=password="$(openssl rand -hex 24)"
   kubectl create secret generic __name__-db-app -n schema-per-service --from-literal=password="$(openssl rand -hex 24)"
