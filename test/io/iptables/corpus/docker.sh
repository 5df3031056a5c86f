# The commands Docker runs to build docker.rules (order as dockerd issues them, simplified)
iptables -t nat -N DOCKER
iptables -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
iptables -t nat -A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
iptables -t nat -A POSTROUTING -s 172.18.0.0/16 ! -o br-3f1c2a9d0e7b -j MASQUERADE
iptables -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
iptables -t nat -A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE
iptables -t nat -A POSTROUTING -s 172.18.0.3/32 -d 172.18.0.3/32 -p udp -m udp --dport 53 -j MASQUERADE
iptables -t nat -A DOCKER -i docker0 -j RETURN
iptables -t nat -I DOCKER -i br-3f1c2a9d0e7b -j RETURN
iptables --wait -t nat -A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80
iptables --wait -t nat -A DOCKER -d 127.0.0.1/32 ! -i br-3f1c2a9d0e7b -p udp -m udp --dport 5353 -j DNAT --to-destination 172.18.0.3:53
iptables -N DOCKER
iptables -N DOCKER-ISOLATION-STAGE-1
iptables -N DOCKER-ISOLATION-STAGE-2
iptables -N DOCKER-USER
iptables -P FORWARD DROP
iptables -A FORWARD -o docker0 -j DOCKER
iptables -I FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
iptables -A FORWARD -i docker0 ! -o docker0 -j ACCEPT
iptables -A FORWARD -i docker0 -o docker0 -j ACCEPT
iptables -I FORWARD -o br-3f1c2a9d0e7b -j DOCKER
iptables -I FORWARD -o br-3f1c2a9d0e7b -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
iptables -I FORWARD 3 -i br-3f1c2a9d0e7b ! -o br-3f1c2a9d0e7b -j ACCEPT
iptables -I FORWARD 4 -i br-3f1c2a9d0e7b -o br-3f1c2a9d0e7b -j ACCEPT
iptables -I FORWARD -j DOCKER-ISOLATION-STAGE-1
iptables -I FORWARD -j DOCKER-USER
iptables -A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT
iptables -A DOCKER -d 172.18.0.3/32 ! -i br-3f1c2a9d0e7b -o br-3f1c2a9d0e7b -p udp -m udp --dport 53 -j ACCEPT
iptables -A DOCKER-ISOLATION-STAGE-1 -i br-3f1c2a9d0e7b ! -o br-3f1c2a9d0e7b -j DOCKER-ISOLATION-STAGE-2
iptables -A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
iptables -A DOCKER-ISOLATION-STAGE-1 -j RETURN
iptables -A DOCKER-ISOLATION-STAGE-2 -o br-3f1c2a9d0e7b -j DROP
iptables -A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
iptables -A DOCKER-ISOLATION-STAGE-2 -j RETURN
iptables -A DOCKER-USER -j RETURN
